from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class DayClosed(_message.Message):
    __slots__ = ("world", "day")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    world: str
    day: str
    def __init__(self, world: _Optional[str] = ..., day: _Optional[str] = ...) -> None: ...

class DayMark(_message.Message):
    __slots__ = ("world", "day", "stage", "source_partition", "source_partitions")
    WORLD_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PARTITION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    world: str
    day: str
    stage: str
    source_partition: int
    source_partitions: int
    def __init__(self, world: _Optional[str] = ..., day: _Optional[str] = ..., stage: _Optional[str] = ..., source_partition: _Optional[int] = ..., source_partitions: _Optional[int] = ...) -> None: ...
