//! Activity logs: ingest, attribution, baselines, anomaly detection, least-privilege right-sizing.
