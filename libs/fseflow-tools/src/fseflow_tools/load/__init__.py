"""``fseflow load``: an open-loop load generator for a deployment, and its report.

profiles    offered rate over time (constant, step, ramp, national-day) and the send schedule
national    the national volumes, intraday shape and shares the national-day profile uses
lots        contract-valid lots built from the demo generator's world, fresh ids each send
openloop    sends on schedule without waiting for answers, latency from the intended time
worker      one worker process: its slice of the schedule, its own gRPC channel and histograms
generator   starts the workers, merges their histogram deltas (HDR encode/decode)
null_server a SubmitLot/SubmitDocument server that answers at once or stalls (the ceiling, tests)
windows     10-second windows: counts, histograms, their pure arithmetic
watcher     reads the pipeline's outputs: FSE classified (receipt -> classified), day closes
lag         consumer groups' committed offsets vs high-water marks (backlog per stage)
scrape      the services' /metrics: CPU and resident memory
days        closes business days as the run goes (a compressed day lasts 86400 / compress s)
knee        the highest sustainable step rate, and the first stage to saturate
chain       the trivial-chain baseline: pass-through hops with the pipeline's shape
result      result.json (OpenMessaging Benchmark field names) and the CSV time series
report      PNG plots and the one-page HTML report; compare      two results side by side
plotting    matplotlib on the Agg canvas, its config dir where a read-only home cannot have it
live        the terminal view while it runs; run   the whole run against a deployment
"""
