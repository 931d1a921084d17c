//! Test fixtures: secrets in test code and fixture data are often fabricated on purpose, but
//! not always (real keys get pasted into tests too). A finding in a path that looks like test
//! material is kept and flagged, one confidence level lower, never hidden.

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::allow::AllowError;

/// Paths of test code and fixture data in the common layouts of the main languages.
pub const DEFAULT_FIXTURE_GLOBS: &[&str] = &[
    "**/test/**",
    "**/tests/**",
    "**/__tests__/**",
    "**/spec/**",
    "**/specs/**",
    "**/fixtures/**",
    "**/__fixtures__/**",
    "**/testdata/**",
    "**/test-data/**",
    "**/test_data/**",
    "**/__mocks__/**",
    "**/mocks/**",
    "**/*_test.go",
    "**/*_test.py",
    "**/test_*.py",
    "**/*.test.js",
    "**/*.test.ts",
    "**/*.spec.js",
    "**/*.spec.ts",
    "**/*_spec.rb",
    "**/*Test.java",
    "**/*Tests.java",
    "**/*Tests.cs",
];

/// Compiled fixture path globs.
#[derive(Debug, Clone, Default)]
pub struct FixturePaths {
    globs: GlobSet,
}

impl FixturePaths {
    pub fn new<S: AsRef<str>>(globs: &[S]) -> Result<FixturePaths, AllowError> {
        let mut builder = GlobSetBuilder::new();
        for glob in globs {
            let glob = glob.as_ref();
            builder.add(Glob::new(glob).map_err(|e| AllowError::Glob {
                glob: glob.to_string(),
                message: e.kind().to_string(),
            })?);
        }
        let globs = builder.build().map_err(|e| AllowError::Glob {
            glob: String::new(),
            message: e.to_string(),
        })?;
        Ok(FixturePaths { globs })
    }

    /// The default globs.
    pub fn defaults() -> FixturePaths {
        // The defaults are constants checked by the tests: they compile.
        FixturePaths::new(DEFAULT_FIXTURE_GLOBS).unwrap_or_default()
    }

    /// Whether a path as displayed (archive members included: `a.zip!tests/x`) is test
    /// material.
    pub fn matches(&self, display_path: &str) -> bool {
        if self.globs.is_empty() {
            return false;
        }
        let path = display_path.trim_start_matches("./");
        self.globs.is_match(path)
            || path
                .rsplit_once('!')
                .is_some_and(|(_, member)| self.globs.is_match(member))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_code_and_fixture_data_of_the_main_languages_match() {
        let f = FixturePaths::defaults();
        assert!(!f.globs.is_empty());
        for path in [
            "tests/it/scan.rs",
            "/home/dev/api/test/auth.js",
            "src/__tests__/client.test.ts",
            "pkg/auth/token_test.go",
            "app/test_settings.py",
            "spec/models/user_spec.rb",
            "src/test/java/com/acme/ClientTest.java",
            "internal/testdata/config.yaml",
            "build.zip!fixtures/keys.json",
        ] {
            assert!(f.matches(path), "{path}");
        }
        for path in [
            "src/config.py",
            "deploy/prod.env",
            "contest/results.csv",
            "src/attestation.rs",
            "latest/settings.yaml",
        ] {
            assert!(!f.matches(path), "{path}");
        }
        assert!(!FixturePaths::new::<&str>(&[]).unwrap().matches("tests/x"));
        assert!(FixturePaths::new(&["a/[b"]).is_err());
    }
}
