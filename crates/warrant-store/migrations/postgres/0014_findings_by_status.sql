-- Schema 14: open findings counted by OWASP NHI risk and severity (the console's overview) read
-- this index alone instead of every finding's row with its JSON.

CREATE INDEX findings_status_owasp_severity ON findings (status, owasp, severity);
