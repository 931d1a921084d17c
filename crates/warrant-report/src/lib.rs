//! Renders assessments and findings as tables, JSON, SARIF, HTML.
