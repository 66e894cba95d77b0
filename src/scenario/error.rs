//! Scenario errors: every one names the file, the line and column, and the field path.

use std::fmt;
use std::path::PathBuf;

/// A bad scenario (or a bad `--set`). Never recoverable: the run does not start.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line and column, when the field is in the file.
    pub position: Option<(usize, usize)>,
    /// Field path, like `stations.db.workers`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// The nearest valid name, for unknown names.
    pub suggestion: Option<String>,
    /// Context such as `strategy "3 replicas"`.
    pub context: Option<String>,
}

impl ScenarioError {
    /// An error about `field` in `file`.
    pub fn new(
        file: impl Into<PathBuf>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ScenarioError {
            file: file.into(),
            position: None,
            field: field.into(),
            message: message.into(),
            suggestion: None,
            context: None,
        }
    }

    /// With a suggestion taken from `candidates`: the one nearest to `name`, if near enough.
    pub fn suggest<'a>(
        mut self,
        name: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        self.suggestion = nearest(name, candidates);
        self
    }
}

/// The candidate nearest to `name` by Jaro-Winkler similarity, if it is similar enough.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": field `{}`", self.field)?;
        }
        if let Some(ctx) = &self.context {
            write!(f, " ({ctx})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean `{s}`?)")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}
