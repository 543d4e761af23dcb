from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class FseOverdue(_message.Message):
    __slots__ = ("world", "organism", "fse_id", "ps_id", "overdue_on", "paid_on")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    ORGANISM_FIELD_NUMBER: _ClassVar[int]
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_ON_FIELD_NUMBER: _ClassVar[int]
    PAID_ON_FIELD_NUMBER: _ClassVar[int]
    world: str
    organism: str
    fse_id: str
    ps_id: str
    overdue_on: str
    paid_on: str
    def __init__(self, world: _Optional[str] = ..., organism: _Optional[str] = ..., fse_id: _Optional[str] = ..., ps_id: _Optional[str] = ..., overdue_on: _Optional[str] = ..., paid_on: _Optional[str] = ...) -> None: ...

class RecoveryOrdered(_message.Message):
    __slots__ = ("world", "organism", "fse_id", "ps_id", "kind", "amount_cents", "indu_on", "recover_on", "cancellable")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    ORGANISM_FIELD_NUMBER: _ClassVar[int]
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    INDU_ON_FIELD_NUMBER: _ClassVar[int]
    RECOVER_ON_FIELD_NUMBER: _ClassVar[int]
    CANCELLABLE_FIELD_NUMBER: _ClassVar[int]
    world: str
    organism: str
    fse_id: str
    ps_id: str
    kind: str
    amount_cents: int
    indu_on: str
    recover_on: str
    cancellable: bool
    def __init__(self, world: _Optional[str] = ..., organism: _Optional[str] = ..., fse_id: _Optional[str] = ..., ps_id: _Optional[str] = ..., kind: _Optional[str] = ..., amount_cents: _Optional[int] = ..., indu_on: _Optional[str] = ..., recover_on: _Optional[str] = ..., cancellable: _Optional[bool] = ...) -> None: ...
