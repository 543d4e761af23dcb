"""The generated protobuf contracts, one package per domain: ``fseflow.contracts.<domain>.v1``.

Generated from ``proto/fseflow/contracts`` by ``make proto`` (never edited by hand). The protobuf
packages keep their names (``fseflow.pointage.v1``...): the messages' full names, which travel in
every record's ``ce_type`` header, are unchanged.
"""
