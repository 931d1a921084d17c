//! Leaked-secret detection in files, git history and archives, linked to identities.
