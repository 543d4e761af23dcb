"""``fseflow caisse grant|revoke RR-CCC``: a regional caisse's credentials and ACLs on Apache Kafka
(fseflow/caisse_access.py)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from confluent_kafka import KafkaException

from fseflow import topics
from fseflow.settings import KafkaSettings

app = typer.Typer(
    help="A regional caisse's access to its own topics (Apache Kafka: SCRAM user, prefixed ACLs).",
    no_args_is_help=True,
)

OrganismArgument = Annotated[str, typer.Argument(metavar="RR-CCC", help="The organism, e.g. 01-331")]
EXIT_NO_ACCESS_CONTROL = 3
TANSU_CANNOT = (
    "this stack's broker is Tansu, which has no authentication and no ACLs: any client reads every "
    "topic, so no credentials can keep a caisse to its own. Start the stack on Apache Kafka "
    "(`make kafka`, then `fseflow reset --broker kafka`) to grant a caisse its topics."
)


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _admin_settings(organism: str) -> KafkaSettings:
    """The admin's settings of the running system; exit 3 on Tansu, 2 on a bad organism."""
    from fseflow_tools.cli.main import _embedded_state, _stack, running_system

    try:
        topics.check_organism(organism)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    with running_system(start_if_missing=False, quiet=True) as system:
        state = _embedded_state(_stack(), system)
        if state is not None and state.broker_kind == "tansu":
            raise _fail(TANSU_CANNOT, EXIT_NO_ACCESS_CONTROL)
        if system.kafka.kafka_sasl_mechanism is None:
            raise _fail(
                f"the broker {system.kafka.kafka_bootstrap_servers} is reached without SASL "
                "(KAFKA_SASL_MECHANISM unset): there is no authentication to grant",
                EXIT_NO_ACCESS_CONTROL,
            )
        return system.kafka


@app.command("grant")
def grant(
    organism: OrganismArgument,
    java: Annotated[bool, typer.Option(help="Write the Java clients' file (sasl.jaas.config)")] = False,
) -> None:
    """Create (or renew) the caisse's SCRAM user caisse-RR-CCC and its ACLs (read
    caisse.RR-CCC.* topics, groups under caisse.RR-CCC.), and print its client properties file.

    The password is printed once, kept nowhere; granting again replaces it. The file is
    librdkafka's (confluent-kafka, kcat, `fseflow subscribe RR-CCC --config FILE`), with the line a
    Java client needs commented out (--java writes the Java file). Exit 3 on Tansu (no ACLs).
    """
    from fseflow_tools import caisse_access
    from fseflow_tools.kafka_access import AccessError

    settings = _admin_settings(organism)
    try:
        granted = caisse_access.grant(settings, organism)
    except (AccessError, KafkaException, RuntimeError) as exc:
        raise _fail(f"caisse grant {organism}: {exc}", 1) from None
    sys.stdout.write(caisse_access.properties(granted, java=java))
    typer.echo(
        f"granted {granted.user}: {granted.acls} ACLs on caisse.{organism}. (topics and groups); "
        "the password above is shown once",
        err=True,
    )


@app.command("revoke")
def revoke(organism: OrganismArgument) -> None:
    """Delete the caisse's SCRAM user and every ACL of its principal. Exit 3 on Tansu."""
    from fseflow_tools import caisse_access
    from fseflow_tools.kafka_access import AccessError

    settings = _admin_settings(organism)
    try:
        existed, deleted = caisse_access.revoke(settings, organism)
    except (AccessError, KafkaException) as exc:
        raise _fail(f"caisse revoke {organism}: {exc}", 1) from None
    user = f"caisse-{organism}"
    typer.echo(
        f"revoked {user}: user {'deleted' if existed else 'did not exist'}, {deleted} ACL(s) deleted",
        err=True,
    )
