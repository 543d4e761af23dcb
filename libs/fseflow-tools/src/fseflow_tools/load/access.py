"""What `fseflow load` may do on a broker with ACLs: the rights of its user (``fseflow-load``,
deploy/load/kafka-user.yaml, checked against this by a unit test), in ``fseflow_tools.acl``'s terms.

It reads the topics whose backlog it samples and the verdicts it watches, asks the pipeline's
groups for their committed offsets (Describe on each group, never joining one), reads with
throw-away groups named after its client id, writes the clock (it closes the run's days, as
`fseflow clock close` does), and, for the trivial chain, creates, writes and reads its own
``scratch.load-chain-`` topics with its own groups.
"""

from __future__ import annotations

from fseflow.topics import CLOCK, FSE_CLASSIFIED, SETTLEMENTS, TopicNames
from fseflow_tools.acl import Grant, Operation, PatternType, ResourceType, principal
from fseflow_tools.load.chain import CHAIN_GROUP_PREFIX, CHAIN_TOPIC_PREFIX
from fseflow_tools.load.chain import CLIENT_ID as CHAIN_CLIENT_ID
from fseflow_tools.load.lag import PIPELINE_GROUPS

LOAD_USER = "fseflow-load"
CLIENT_ID = "fseflow-load"  # the run's KafkaFactory: readers' groups are "<client id>-reader-..."


def load_grants(topic_prefix: str = "") -> tuple[Grant, ...]:
    names = TopicNames(topic_prefix)
    who = principal(LOAD_USER)
    grants: set[Grant] = set()

    def allow(resource: ResourceType, pattern: PatternType, name: str, *operations: Operation) -> None:
        grants.update(Grant(who, resource, pattern, name, op) for op in operations)

    read = {spec for group in PIPELINE_GROUPS for spec in group.topics} | {FSE_CLASSIFIED, SETTLEMENTS}
    for spec in read:
        allow("topic", "literal", names(spec), "Read", "Describe")
    allow("topic", "literal", names(CLOCK), "Write", "Describe")
    for group in PIPELINE_GROUPS:
        allow("group", "literal", group.group, "Describe")
    allow("group", "prefix", f"{CLIENT_ID}-reader-", "Read", "Describe")
    allow("topic", "prefix", f"{topic_prefix}{CHAIN_TOPIC_PREFIX}", "Create", "Write", "Read", "Describe")
    allow("group", "prefix", CHAIN_GROUP_PREFIX, "Read", "Describe")
    allow("group", "prefix", f"{CHAIN_CLIENT_ID}-reader-", "Read", "Describe")
    return tuple(sorted(grants))
