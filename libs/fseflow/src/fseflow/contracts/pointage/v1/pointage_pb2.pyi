from fseflow.contracts.claims.v1 import claims_pb2 as _claims_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FseDelivered(_message.Message):
    __slots__ = ("world", "fse_id", "lot_id", "ps_id", "organism", "patient_organism", "cti", "received_on", "delivered_on", "classification", "reasons", "amount_cents", "mode", "acts", "cost_cents", "rectifies")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    LOT_ID_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISM_FIELD_NUMBER: _ClassVar[int]
    PATIENT_ORGANISM_FIELD_NUMBER: _ClassVar[int]
    CTI_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_ON_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_ON_FIELD_NUMBER: _ClassVar[int]
    CLASSIFICATION_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    ACTS_FIELD_NUMBER: _ClassVar[int]
    COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    RECTIFIES_FIELD_NUMBER: _ClassVar[int]
    world: str
    fse_id: str
    lot_id: str
    ps_id: str
    organism: str
    patient_organism: str
    cti: int
    received_on: str
    delivered_on: str
    classification: str
    reasons: _containers.RepeatedScalarFieldContainer[str]
    amount_cents: int
    mode: _claims_pb2.BillingMode
    acts: int
    cost_cents: int
    rectifies: str
    def __init__(self, world: _Optional[str] = ..., fse_id: _Optional[str] = ..., lot_id: _Optional[str] = ..., ps_id: _Optional[str] = ..., organism: _Optional[str] = ..., patient_organism: _Optional[str] = ..., cti: _Optional[int] = ..., received_on: _Optional[str] = ..., delivered_on: _Optional[str] = ..., classification: _Optional[str] = ..., reasons: _Optional[_Iterable[str]] = ..., amount_cents: _Optional[int] = ..., mode: _Optional[_Union[_claims_pb2.BillingMode, str]] = ..., acts: _Optional[int] = ..., cost_cents: _Optional[int] = ..., rectifies: _Optional[str] = ...) -> None: ...

class ValidatedFse(_message.Message):
    __slots__ = ("fse_id", "pay_on")
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    PAY_ON_FIELD_NUMBER: _ClassVar[int]
    fse_id: str
    pay_on: str
    def __init__(self, fse_id: _Optional[str] = ..., pay_on: _Optional[str] = ...) -> None: ...

class AccordsValidated(_message.Message):
    __slots__ = ("world", "organism", "validated_on", "by", "fse")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    ORGANISM_FIELD_NUMBER: _ClassVar[int]
    VALIDATED_ON_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    FSE_FIELD_NUMBER: _ClassVar[int]
    world: str
    organism: str
    validated_on: str
    by: str
    fse: _containers.RepeatedCompositeFieldContainer[ValidatedFse]
    def __init__(self, world: _Optional[str] = ..., organism: _Optional[str] = ..., validated_on: _Optional[str] = ..., by: _Optional[str] = ..., fse: _Optional[_Iterable[_Union[ValidatedFse, _Mapping]]] = ...) -> None: ...

class LitigieuseDecided(_message.Message):
    __slots__ = ("world", "organism", "fse_id", "outcome", "decided_on", "technician", "pay_on")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    ORGANISM_FIELD_NUMBER: _ClassVar[int]
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DECIDED_ON_FIELD_NUMBER: _ClassVar[int]
    TECHNICIAN_FIELD_NUMBER: _ClassVar[int]
    PAY_ON_FIELD_NUMBER: _ClassVar[int]
    world: str
    organism: str
    fse_id: str
    outcome: str
    decided_on: str
    technician: str
    pay_on: str
    def __init__(self, world: _Optional[str] = ..., organism: _Optional[str] = ..., fse_id: _Optional[str] = ..., outcome: _Optional[str] = ..., decided_on: _Optional[str] = ..., technician: _Optional[str] = ..., pay_on: _Optional[str] = ...) -> None: ...

class FseReplaced(_message.Message):
    __slots__ = ("world", "organism", "fse_id", "replaced_by", "replaced_on")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    ORGANISM_FIELD_NUMBER: _ClassVar[int]
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    REPLACED_BY_FIELD_NUMBER: _ClassVar[int]
    REPLACED_ON_FIELD_NUMBER: _ClassVar[int]
    world: str
    organism: str
    fse_id: str
    replaced_by: str
    replaced_on: str
    def __init__(self, world: _Optional[str] = ..., organism: _Optional[str] = ..., fse_id: _Optional[str] = ..., replaced_by: _Optional[str] = ..., replaced_on: _Optional[str] = ...) -> None: ...

class PaymentLine(_message.Message):
    __slots__ = ("fse_id", "amount_cents")
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    fse_id: str
    amount_cents: int
    def __init__(self, fse_id: _Optional[str] = ..., amount_cents: _Optional[int] = ...) -> None: ...

class RecoveryLine(_message.Message):
    __slots__ = ("fse_id", "amount_cents", "kind", "remaining_cents")
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REMAINING_CENTS_FIELD_NUMBER: _ClassVar[int]
    fse_id: str
    amount_cents: int
    kind: str
    remaining_cents: int
    def __init__(self, fse_id: _Optional[str] = ..., amount_cents: _Optional[int] = ..., kind: _Optional[str] = ..., remaining_cents: _Optional[int] = ...) -> None: ...

class PaymentMade(_message.Message):
    __slots__ = ("world", "organism", "payment_id", "ps_id", "paid_on", "gross_cents", "offset_cents", "net_cents", "lines", "recoveries")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    ORGANISM_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    PAID_ON_FIELD_NUMBER: _ClassVar[int]
    GROSS_CENTS_FIELD_NUMBER: _ClassVar[int]
    OFFSET_CENTS_FIELD_NUMBER: _ClassVar[int]
    NET_CENTS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    RECOVERIES_FIELD_NUMBER: _ClassVar[int]
    world: str
    organism: str
    payment_id: str
    ps_id: str
    paid_on: str
    gross_cents: int
    offset_cents: int
    net_cents: int
    lines: _containers.RepeatedCompositeFieldContainer[PaymentLine]
    recoveries: _containers.RepeatedCompositeFieldContainer[RecoveryLine]
    def __init__(self, world: _Optional[str] = ..., organism: _Optional[str] = ..., payment_id: _Optional[str] = ..., ps_id: _Optional[str] = ..., paid_on: _Optional[str] = ..., gross_cents: _Optional[int] = ..., offset_cents: _Optional[int] = ..., net_cents: _Optional[int] = ..., lines: _Optional[_Iterable[_Union[PaymentLine, _Mapping]]] = ..., recoveries: _Optional[_Iterable[_Union[RecoveryLine, _Mapping]]] = ...) -> None: ...

class DocumentMatched(_message.Message):
    __slots__ = ("world", "organism", "fse_id", "document_id", "matched_on")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    ORGANISM_FIELD_NUMBER: _ClassVar[int]
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    MATCHED_ON_FIELD_NUMBER: _ClassVar[int]
    world: str
    organism: str
    fse_id: str
    document_id: str
    matched_on: str
    def __init__(self, world: _Optional[str] = ..., organism: _Optional[str] = ..., fse_id: _Optional[str] = ..., document_id: _Optional[str] = ..., matched_on: _Optional[str] = ...) -> None: ...

class NoticeSent(_message.Message):
    __slots__ = ("world", "organism", "ps_id", "kind", "sent_on", "fse_id", "text")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    ORGANISM_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SENT_ON_FIELD_NUMBER: _ClassVar[int]
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    world: str
    organism: str
    ps_id: str
    kind: str
    sent_on: str
    fse_id: str
    text: str
    def __init__(self, world: _Optional[str] = ..., organism: _Optional[str] = ..., ps_id: _Optional[str] = ..., kind: _Optional[str] = ..., sent_on: _Optional[str] = ..., fse_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class DecisionRecorded(_message.Message):
    __slots__ = ("world", "fse_id", "outcome", "decided_on", "ps_id", "nir", "acts")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DECIDED_ON_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    NIR_FIELD_NUMBER: _ClassVar[int]
    ACTS_FIELD_NUMBER: _ClassVar[int]
    world: str
    fse_id: str
    outcome: str
    decided_on: str
    ps_id: str
    nir: str
    acts: _containers.RepeatedCompositeFieldContainer[_claims_pb2.ActLine]
    def __init__(self, world: _Optional[str] = ..., fse_id: _Optional[str] = ..., outcome: _Optional[str] = ..., decided_on: _Optional[str] = ..., ps_id: _Optional[str] = ..., nir: _Optional[str] = ..., acts: _Optional[_Iterable[_Union[_claims_pb2.ActLine, _Mapping]]] = ...) -> None: ...

class FsePaid(_message.Message):
    __slots__ = ("world", "fse_id", "ps_id", "organism", "nir", "paid_on", "amount_cents", "acts", "needs_document", "document_matched_on", "payment_id")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISM_FIELD_NUMBER: _ClassVar[int]
    NIR_FIELD_NUMBER: _ClassVar[int]
    PAID_ON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    ACTS_FIELD_NUMBER: _ClassVar[int]
    NEEDS_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_MATCHED_ON_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    world: str
    fse_id: str
    ps_id: str
    organism: str
    nir: str
    paid_on: str
    amount_cents: int
    acts: _containers.RepeatedCompositeFieldContainer[_claims_pb2.ActLine]
    needs_document: bool
    document_matched_on: str
    payment_id: str
    def __init__(self, world: _Optional[str] = ..., fse_id: _Optional[str] = ..., ps_id: _Optional[str] = ..., organism: _Optional[str] = ..., nir: _Optional[str] = ..., paid_on: _Optional[str] = ..., amount_cents: _Optional[int] = ..., acts: _Optional[_Iterable[_Union[_claims_pb2.ActLine, _Mapping]]] = ..., needs_document: _Optional[bool] = ..., document_matched_on: _Optional[str] = ..., payment_id: _Optional[str] = ...) -> None: ...

class ActsCounted(_message.Message):
    __slots__ = ("world", "ps_id", "year", "mode", "acts", "counted_on")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    ACTS_FIELD_NUMBER: _ClassVar[int]
    COUNTED_ON_FIELD_NUMBER: _ClassVar[int]
    world: str
    ps_id: str
    year: int
    mode: _claims_pb2.BillingMode
    acts: int
    counted_on: str
    def __init__(self, world: _Optional[str] = ..., ps_id: _Optional[str] = ..., year: _Optional[int] = ..., mode: _Optional[_Union[_claims_pb2.BillingMode, str]] = ..., acts: _Optional[int] = ..., counted_on: _Optional[str] = ...) -> None: ...
