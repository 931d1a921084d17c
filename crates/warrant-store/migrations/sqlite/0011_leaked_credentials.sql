-- Schema 11: a leak location names the credential it leaks. A leaked-secret finding is raised
-- per identity and credential (a key id and its secret, or one secret in many places, are one
-- finding), so it is fixed when no location of any secret of that credential is left.
--
-- NULL when the secret is not linked, when the location only names its credential (a key id,
-- public by design), and for locations recorded before schema 11 (their findings were raised
-- per secret, and are fixed per secret).

ALTER TABLE secret_occurrences ADD COLUMN credential TEXT; -- credentials.key of the inventory credential whose secret this is, when linked
CREATE INDEX secret_occurrences_credential ON secret_occurrences (identity, credential);
