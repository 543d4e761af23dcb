from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DocumentMetadata(_message.Message):
    __slots__ = ("world", "document_id", "fse_id", "ps_id", "insured_organism", "receiving_organism", "kind", "received_on", "channel")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    INSURED_ORGANISM_FIELD_NUMBER: _ClassVar[int]
    RECEIVING_ORGANISM_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_ON_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    world: str
    document_id: str
    fse_id: str
    ps_id: str
    insured_organism: str
    receiving_organism: str
    kind: str
    received_on: str
    channel: str
    def __init__(self, world: _Optional[str] = ..., document_id: _Optional[str] = ..., fse_id: _Optional[str] = ..., ps_id: _Optional[str] = ..., insured_organism: _Optional[str] = ..., receiving_organism: _Optional[str] = ..., kind: _Optional[str] = ..., received_on: _Optional[str] = ..., channel: _Optional[str] = ...) -> None: ...

class PutDocumentRequest(_message.Message):
    __slots__ = ("metadata", "chunk")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    metadata: DocumentMetadata
    chunk: bytes
    def __init__(self, metadata: _Optional[_Union[DocumentMetadata, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class PutDocumentResponse(_message.Message):
    __slots__ = ("document", "already_stored")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    ALREADY_STORED_FIELD_NUMBER: _ClassVar[int]
    document: DocumentInfo
    already_stored: bool
    def __init__(self, document: _Optional[_Union[DocumentInfo, _Mapping]] = ..., already_stored: _Optional[bool] = ...) -> None: ...

class DocumentInfo(_message.Message):
    __slots__ = ("metadata", "content_type", "size_bytes", "sha256", "exploitable", "quality_reason", "stored_on", "purged_on")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    EXPLOITABLE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_REASON_FIELD_NUMBER: _ClassVar[int]
    STORED_ON_FIELD_NUMBER: _ClassVar[int]
    PURGED_ON_FIELD_NUMBER: _ClassVar[int]
    metadata: DocumentMetadata
    content_type: str
    size_bytes: int
    sha256: str
    exploitable: bool
    quality_reason: str
    stored_on: str
    purged_on: str
    def __init__(self, metadata: _Optional[_Union[DocumentMetadata, _Mapping]] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., exploitable: _Optional[bool] = ..., quality_reason: _Optional[str] = ..., stored_on: _Optional[str] = ..., purged_on: _Optional[str] = ...) -> None: ...

class GetDocumentRequest(_message.Message):
    __slots__ = ("world", "document_id")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    world: str
    document_id: str
    def __init__(self, world: _Optional[str] = ..., document_id: _Optional[str] = ...) -> None: ...

class GetDocumentResponse(_message.Message):
    __slots__ = ("info", "chunk")
    INFO_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    info: DocumentInfo
    chunk: bytes
    def __init__(self, info: _Optional[_Union[DocumentInfo, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class StatDocumentRequest(_message.Message):
    __slots__ = ("world", "document_id")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    world: str
    document_id: str
    def __init__(self, world: _Optional[str] = ..., document_id: _Optional[str] = ...) -> None: ...

class StatDocumentResponse(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: DocumentInfo
    def __init__(self, document: _Optional[_Union[DocumentInfo, _Mapping]] = ...) -> None: ...

class VerifyDocumentRequest(_message.Message):
    __slots__ = ("world", "document_id")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    world: str
    document_id: str
    def __init__(self, world: _Optional[str] = ..., document_id: _Optional[str] = ...) -> None: ...

class PieceHealth(_message.Message):
    __slots__ = ("support", "piece", "state")
    SUPPORT_FIELD_NUMBER: _ClassVar[int]
    PIECE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    support: int
    piece: int
    state: str
    def __init__(self, support: _Optional[int] = ..., piece: _Optional[int] = ..., state: _Optional[str] = ...) -> None: ...

class VerifyDocumentResponse(_message.Message):
    __slots__ = ("health", "good_distinct_pieces", "pieces", "seal_ok")
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    GOOD_DISTINCT_PIECES_FIELD_NUMBER: _ClassVar[int]
    PIECES_FIELD_NUMBER: _ClassVar[int]
    SEAL_OK_FIELD_NUMBER: _ClassVar[int]
    health: str
    good_distinct_pieces: int
    pieces: _containers.RepeatedCompositeFieldContainer[PieceHealth]
    seal_ok: bool
    def __init__(self, health: _Optional[str] = ..., good_distinct_pieces: _Optional[int] = ..., pieces: _Optional[_Iterable[_Union[PieceHealth, _Mapping]]] = ..., seal_ok: _Optional[bool] = ...) -> None: ...

class ListDocumentsRequest(_message.Message):
    __slots__ = ("world", "fse_id", "ps_id")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    FSE_ID_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    world: str
    fse_id: str
    ps_id: str
    def __init__(self, world: _Optional[str] = ..., fse_id: _Optional[str] = ..., ps_id: _Optional[str] = ...) -> None: ...

class ListDocumentsResponse(_message.Message):
    __slots__ = ("documents",)
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    documents: _containers.RepeatedCompositeFieldContainer[DocumentInfo]
    def __init__(self, documents: _Optional[_Iterable[_Union[DocumentInfo, _Mapping]]] = ...) -> None: ...

class DocumentStored(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: DocumentInfo
    def __init__(self, document: _Optional[_Union[DocumentInfo, _Mapping]] = ...) -> None: ...

class AidGranted(_message.Message):
    __slots__ = ("world", "ps_id", "kind", "granted_on", "amount_cents", "exploitable_documents", "documents")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    PS_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    GRANTED_ON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CENTS_FIELD_NUMBER: _ClassVar[int]
    EXPLOITABLE_DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    world: str
    ps_id: str
    kind: str
    granted_on: str
    amount_cents: int
    exploitable_documents: int
    documents: int
    def __init__(self, world: _Optional[str] = ..., ps_id: _Optional[str] = ..., kind: _Optional[str] = ..., granted_on: _Optional[str] = ..., amount_cents: _Optional[int] = ..., exploitable_documents: _Optional[int] = ..., documents: _Optional[int] = ...) -> None: ...
