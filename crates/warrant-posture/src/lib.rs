//! Posture rules (OWASP NHI1-NHI10), Kubernetes and GitHub privilege analysis, and risk scoring. No I/O.
