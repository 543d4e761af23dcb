from fseflow.contracts.claims.v1 import claims_pb2 as _claims_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Classification(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLASSIFICATION_UNSPECIFIED: _ClassVar[Classification]
    CLASSIFICATION_ACCORD: _ClassVar[Classification]
    CLASSIFICATION_REJET: _ClassVar[Classification]
    CLASSIFICATION_LITIGIEUSE: _ClassVar[Classification]

class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REASON_UNSPECIFIED: _ClassVar[Reason]
    REASON_NIR_KEY: _ClassVar[Reason]
    REASON_PATIENT_UNKNOWN: _ClassVar[Reason]
    REASON_NO_RIGHTS: _ClassVar[Reason]
    REASON_PRESCRIBER_INVALID: _ClassVar[Reason]
    REASON_PRESCRIBER_UNKNOWN: _ClassVar[Reason]
    REASON_ACT_CODE_UNKNOWN: _ClassVar[Reason]
    REASON_COEF_INVALID: _ClassVar[Reason]
    REASON_ACT_IN_FUTURE: _ClassVar[Reason]
    REASON_REPLACEMENT_MODE: _ClassVar[Reason]
    REASON_DUPLICATE: _ClassVar[Reason]
    REASON_TOO_MANY_LINES: _ClassVar[Reason]
    REASON_ALD_NOT_ELIGIBLE: _ClassVar[Reason]
    REASON_DURING_HOSPITAL_STAY: _ClassVar[Reason]
    REASON_AIS3_DAILY_LIMIT: _ClassVar[Reason]
    REASON_SIGNATURE_NOT_EXEMPT: _ClassVar[Reason]
    REASON_DI_WITHOUT_PRESCRIPTION: _ClassVar[Reason]
    REASON_TOO_MANY_ACTS: _ClassVar[Reason]
    REASON_DUPLICATE_LINE: _ClassVar[Reason]
CLASSIFICATION_UNSPECIFIED: Classification
CLASSIFICATION_ACCORD: Classification
CLASSIFICATION_REJET: Classification
CLASSIFICATION_LITIGIEUSE: Classification
REASON_UNSPECIFIED: Reason
REASON_NIR_KEY: Reason
REASON_PATIENT_UNKNOWN: Reason
REASON_NO_RIGHTS: Reason
REASON_PRESCRIBER_INVALID: Reason
REASON_PRESCRIBER_UNKNOWN: Reason
REASON_ACT_CODE_UNKNOWN: Reason
REASON_COEF_INVALID: Reason
REASON_ACT_IN_FUTURE: Reason
REASON_REPLACEMENT_MODE: Reason
REASON_DUPLICATE: Reason
REASON_TOO_MANY_LINES: Reason
REASON_ALD_NOT_ELIGIBLE: Reason
REASON_DURING_HOSPITAL_STAY: Reason
REASON_AIS3_DAILY_LIMIT: Reason
REASON_SIGNATURE_NOT_EXEMPT: Reason
REASON_DI_WITHOUT_PRESCRIPTION: Reason
REASON_TOO_MANY_ACTS: Reason
REASON_DUPLICATE_LINE: Reason

class FseClassified(_message.Message):
    __slots__ = ("world", "fse_id", "lot_id", "ps_id", "ps_organism", "patient_organism", "cti", "received_on", "checked_on", "classification", "reasons", "amount_cents", "source_event_id", "received_at_ms", "fse")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    LOT_ID_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    PS_ORGANISM_FIELD_NUMBER: _ClassVar[int]
    PATIENT_ORGANISM_FIELD_NUMBER: _ClassVar[int]
    CTI_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_ON_FIELD_NUMBER: _ClassVar[int]
    CHECKED_ON_FIELD_NUMBER: _ClassVar[int]
    CLASSIFICATION_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    FSE_FIELD_NUMBER: _ClassVar[int]
    world: str
    fse_id: str
    lot_id: str
    ps_id: str
    ps_organism: str
    patient_organism: str
    cti: int
    received_on: str
    checked_on: str
    classification: Classification
    reasons: _containers.RepeatedScalarFieldContainer[Reason]
    amount_cents: int
    source_event_id: str
    received_at_ms: int
    fse: _claims_pb2.Fse
    def __init__(self, world: _Optional[str] = ..., fse_id: _Optional[str] = ..., lot_id: _Optional[str] = ..., ps_id: _Optional[str] = ..., ps_organism: _Optional[str] = ..., patient_organism: _Optional[str] = ..., cti: _Optional[int] = ..., received_on: _Optional[str] = ..., checked_on: _Optional[str] = ..., classification: _Optional[_Union[Classification, str]] = ..., reasons: _Optional[_Iterable[_Union[Reason, str]]] = ..., amount_cents: _Optional[int] = ..., source_event_id: _Optional[str] = ..., received_at_ms: _Optional[int] = ..., fse: _Optional[_Union[_claims_pb2.Fse, _Mapping]] = ...) -> None: ...
