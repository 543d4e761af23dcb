from fseflow.contracts.claims.v1 import claims_pb2 as _claims_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubmitLotRequest(_message.Message):
    __slots__ = ("world", "received_on", "lot", "attachments", "request_id")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_ON_FIELD_NUMBER: _ClassVar[int]
    LOT_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    world: str
    received_on: str
    lot: _claims_pb2.Lot
    attachments: _containers.RepeatedCompositeFieldContainer[Attachment]
    request_id: str
    def __init__(self, world: _Optional[str] = ..., received_on: _Optional[str] = ..., lot: _Optional[_Union[_claims_pb2.Lot, _Mapping]] = ..., attachments: _Optional[_Iterable[_Union[Attachment, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class Attachment(_message.Message):
    __slots__ = ("document_id", "content")
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    content: bytes
    def __init__(self, document_id: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class SubmitDocumentRequest(_message.Message):
    __slots__ = ("metadata", "chunk")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    metadata: DocumentSubmission
    chunk: bytes
    def __init__(self, metadata: _Optional[_Union[DocumentSubmission, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class DocumentSubmission(_message.Message):
    __slots__ = ("world", "document_id", "fse_id", "ps_id", "kind", "received_on")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_ON_FIELD_NUMBER: _ClassVar[int]
    world: str
    document_id: str
    fse_id: str
    ps_id: str
    kind: str
    received_on: str
    def __init__(self, world: _Optional[str] = ..., document_id: _Optional[str] = ..., fse_id: _Optional[str] = ..., ps_id: _Optional[str] = ..., kind: _Optional[str] = ..., received_on: _Optional[str] = ...) -> None: ...

class SubmitDocumentResponse(_message.Message):
    __slots__ = ("document_id", "received_on", "exploitable", "quality_reason")
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_ON_FIELD_NUMBER: _ClassVar[int]
    EXPLOITABLE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_REASON_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    received_on: str
    exploitable: bool
    quality_reason: str
    def __init__(self, document_id: _Optional[str] = ..., received_on: _Optional[str] = ..., exploitable: _Optional[bool] = ..., quality_reason: _Optional[str] = ...) -> None: ...

class SubmitLotResponse(_message.Message):
    __slots__ = ("arl",)
    ARL_FIELD_NUMBER: _ClassVar[int]
    arl: Arl
    def __init__(self, arl: _Optional[_Union[Arl, _Mapping]] = ...) -> None: ...

class ArlError(_message.Message):
    __slots__ = ("code", "field", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    field: str
    message: str
    def __init__(self, code: _Optional[str] = ..., field: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class Arl(_message.Message):
    __slots__ = ("world", "lot_id", "ps_id", "positive", "issued_on", "cti", "errors", "fse_accepted", "text")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    LOT_ID_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_FIELD_NUMBER: _ClassVar[int]
    ISSUED_ON_FIELD_NUMBER: _ClassVar[int]
    CTI_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    FSE_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    world: str
    lot_id: str
    ps_id: str
    positive: bool
    issued_on: str
    cti: int
    errors: _containers.RepeatedCompositeFieldContainer[ArlError]
    fse_accepted: int
    text: str
    def __init__(self, world: _Optional[str] = ..., lot_id: _Optional[str] = ..., ps_id: _Optional[str] = ..., positive: _Optional[bool] = ..., issued_on: _Optional[str] = ..., cti: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[ArlError, _Mapping]]] = ..., fse_accepted: _Optional[int] = ..., text: _Optional[str] = ...) -> None: ...

class ArlIssued(_message.Message):
    __slots__ = ("arl",)
    ARL_FIELD_NUMBER: _ClassVar[int]
    arl: Arl
    def __init__(self, arl: _Optional[_Union[Arl, _Mapping]] = ...) -> None: ...

class FseReceived(_message.Message):
    __slots__ = ("world", "lot_id", "ps_id", "ps_organism", "ps_replacing", "cti", "received_on", "position", "received_at_ms", "fse")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    LOT_ID_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    PS_ORGANISM_FIELD_NUMBER: _ClassVar[int]
    PS_REPLACING_FIELD_NUMBER: _ClassVar[int]
    CTI_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_ON_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    FSE_FIELD_NUMBER: _ClassVar[int]
    world: str
    lot_id: str
    ps_id: str
    ps_organism: str
    ps_replacing: str
    cti: int
    received_on: str
    position: int
    received_at_ms: int
    fse: _claims_pb2.Fse
    def __init__(self, world: _Optional[str] = ..., lot_id: _Optional[str] = ..., ps_id: _Optional[str] = ..., ps_organism: _Optional[str] = ..., ps_replacing: _Optional[str] = ..., cti: _Optional[int] = ..., received_on: _Optional[str] = ..., position: _Optional[int] = ..., received_at_ms: _Optional[int] = ..., fse: _Optional[_Union[_claims_pb2.Fse, _Mapping]] = ...) -> None: ...
