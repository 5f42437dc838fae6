//! `.env` files as a source of the `config` crate, with errors that give line numbers.

use super::*;

/// A `.env` file as a `config` source.
#[derive(Debug, Clone)]
pub(super) struct DotenvFile {
    pub(super) vars: Map<String, Value>,
}

impl DotenvFile {
    pub(super) fn read(path: &Path) -> Result<Option<Self>, ConfigError> {
        if !path.is_file() {
            return Ok(None);
        }
        let fail = |message: String| ConfigError::File { path: path.to_owned(), message };
        let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        // Editors on Windows start UTF-8 files with a byte-order mark.
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&bytes);
        let mut vars = Map::new();
        for item in dotenvy::from_read_iter(text) {
            let (k, v) = item.map_err(|e| fail(dotenv_error(text, &e)))?;
            vars.insert(k.to_ascii_lowercase(), Value::from(v));
        }
        Ok(Some(Self { vars }))
    }
}

impl Source for DotenvFile {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, config::ConfigError> {
        Ok(self.vars.clone())
    }
}

/// dotenvy's error, with the line number where it reports a character index into the text.
pub(super) fn dotenv_error(text: &[u8], err: &dotenvy::Error) -> String {
    match err {
        dotenvy::Error::LineParse(line, index) => {
            let text = String::from_utf8_lossy(text);
            // dotenvy hands back the statement (several lines for a quoted value, to the end of
            // the file for an unterminated quote) and an index into it: name where it starts.
            let start = text.find(line.as_str()).unwrap_or(0);
            let number = text[..start].matches('\n').count() + 1;
            let shown = line.lines().next().unwrap_or_default();
            let column = line.chars().take(*index).filter(|c| *c == '\n').count();
            let hint = if column > 0 { " (an unterminated quote?)" } else { "" };
            format!("line {number}: cannot parse `{shown}`{hint}")
        }
        dotenvy::Error::Io(e) => e.to_string(),
        other => other.to_string(),
    }
}
