export const HELP = `tally: AI chargeback engine

usage: tally <command> [options]   (--config FILE, default ./tally.yaml; --store URL overrides store:)

  init [DIR]                       write an example tally.yaml
  demo [--events N]                generate a realistic synthetic month, run every stage, print a summary
  ingest FILE… [--format F] [--skip-invalid]
                                   formats: auto, otlp, litellm, openai-usage, anthropic-usage, jsonl, csv
  statement --period YYYY-MM [--level L] [--format F] [--out FILE] [--issue]
  reconcile --period YYYY-MM --invoice FILE [--true-up] [--tolerance PCT]
                                   exit 1 when a variance is beyond the tolerance (default 2 %)
  restate --period YYYY-MM --config NEW.yaml [--issue]
  signals [--from T] [--to T] [--severity S] [--format F] [--fail-on S]
  replay --from T --to T [--identity ID] [--trace ID] [--format F]
  posture [--format F]
  budgets [--period YYYY-MM]
  verify                           recompute the audit chain; exit 1 when tampered
  serve [--port 4318] [--host 127.0.0.1]

exit codes: 0 ok, 1 findings, 2 usage or input errors
`;
