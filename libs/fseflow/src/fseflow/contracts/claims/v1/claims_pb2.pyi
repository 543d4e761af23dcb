from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BillingMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BILLING_MODE_UNSPECIFIED: _ClassVar[BillingMode]
    BILLING_MODE_SECURISE: _ClassVar[BillingMode]
    BILLING_MODE_DEGRADE: _ClassVar[BillingMode]
    BILLING_MODE_PAPIER: _ClassVar[BillingMode]
BILLING_MODE_UNSPECIFIED: BillingMode
BILLING_MODE_SECURISE: BillingMode
BILLING_MODE_DEGRADE: BillingMode
BILLING_MODE_PAPIER: BillingMode

class ActLine(_message.Message):
    __slots__ = ("code", "coefficient", "performed_on", "complements")
    CODE_FIELD_NUMBER: _ClassVar[int]
    COEFFICIENT_FIELD_NUMBER: _ClassVar[int]
    PERFORMED_ON_FIELD_NUMBER: _ClassVar[int]
    COMPLEMENTS_FIELD_NUMBER: _ClassVar[int]
    code: str
    coefficient: str
    performed_on: str
    complements: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, code: _Optional[str] = ..., coefficient: _Optional[str] = ..., performed_on: _Optional[str] = ..., complements: _Optional[_Iterable[str]] = ...) -> None: ...

class DocumentRef(_message.Message):
    __slots__ = ("document_id", "kind", "quality")
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    kind: str
    quality: str
    def __init__(self, document_id: _Optional[str] = ..., kind: _Optional[str] = ..., quality: _Optional[str] = ...) -> None: ...

class Fse(_message.Message):
    __slots__ = ("fse_id", "nir", "nir_key", "mode", "prescriber", "prescribed_on", "acts", "ald", "signature_impossible", "dsi_sent", "suite_de_soins", "document", "rectifies")
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    NIR_FIELD_NUMBER: _ClassVar[int]
    NIR_KEY_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PRESCRIBER_FIELD_NUMBER: _ClassVar[int]
    PRESCRIBED_ON_FIELD_NUMBER: _ClassVar[int]
    ACTS_FIELD_NUMBER: _ClassVar[int]
    ALD_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_IMPOSSIBLE_FIELD_NUMBER: _ClassVar[int]
    DSI_SENT_FIELD_NUMBER: _ClassVar[int]
    SUITE_DE_SOINS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    RECTIFIES_FIELD_NUMBER: _ClassVar[int]
    fse_id: str
    nir: str
    nir_key: str
    mode: BillingMode
    prescriber: str
    prescribed_on: str
    acts: _containers.RepeatedCompositeFieldContainer[ActLine]
    ald: bool
    signature_impossible: bool
    dsi_sent: bool
    suite_de_soins: bool
    document: DocumentRef
    rectifies: str
    def __init__(self, fse_id: _Optional[str] = ..., nir: _Optional[str] = ..., nir_key: _Optional[str] = ..., mode: _Optional[_Union[BillingMode, str]] = ..., prescriber: _Optional[str] = ..., prescribed_on: _Optional[str] = ..., acts: _Optional[_Iterable[_Union[ActLine, _Mapping]]] = ..., ald: _Optional[bool] = ..., signature_impossible: _Optional[bool] = ..., dsi_sent: _Optional[bool] = ..., suite_de_soins: _Optional[bool] = ..., document: _Optional[_Union[DocumentRef, _Mapping]] = ..., rectifies: _Optional[str] = ...) -> None: ...

class Lot(_message.Message):
    __slots__ = ("lot_id", "ps_id", "fse")
    LOT_ID_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    FSE_FIELD_NUMBER: _ClassVar[int]
    lot_id: str
    ps_id: str
    fse: _containers.RepeatedCompositeFieldContainer[Fse]
    def __init__(self, lot_id: _Optional[str] = ..., ps_id: _Optional[str] = ..., fse: _Optional[_Iterable[_Union[Fse, _Mapping]]] = ...) -> None: ...
