//! The service's `.dockerignore`, read as Docker reads it, so that `context` leaves out of the
//! build context what `docker build` in the service's directory would leave out: `#` starts a
//! comment line, `!` an exception (the last line that matches a path decides), `*` and `?`
//! match within a path segment, `**` across segments, `[...]` is a character class and `\`
//! escapes; each pattern is cleaned (`./`, `//`, `..`, a trailing `/`) and a leading `/` is
//! ignored, as paths are relative to the context's root; a pattern that matches a directory
//! matches everything in it.
//!
//! `.env.local` and `.env.*.local` stay out whatever the file says (or when there is none):
//! they hold a developer's own settings and secrets, and the runtime would read them in the
//! image.

use std::path::Path;

use crate::CliError;

/// What never enters a build context.
const NEVER: &[&str] = &[".env.local", ".env.*.local"];

/// One piece of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// This character.
    Char(char),
    /// `*`: any run of characters but `/`, the empty one included.
    Star,
    /// `?`: one character but `/`.
    One,
    /// `**` (or `**/`) with more of the pattern after it: nothing, or anything ending in `/`.
    Dirs,
    /// `**` at the end of the pattern: anything.
    Rest,
    /// `[...]`: one character in these ranges or, `[^...]`, in none of them.
    Class {
        /// `[^...]`.
        negated: bool,
        /// Inclusive ranges; a single character is a range of one.
        ranges: Vec<(char, char)>,
    },
}

/// One line of a `.dockerignore`.
#[derive(Debug)]
struct Pattern {
    /// A `!` line: it brings back what earlier lines excluded.
    exception: bool,
    tokens: Vec<Token>,
}

/// The patterns of a service's `.dockerignore`, and those no context may do without.
#[derive(Debug)]
pub(crate) struct Filter {
    patterns: Vec<Pattern>,
    never: Vec<Vec<Token>>,
}

impl Filter {
    /// Reads `.dockerignore` in `dir`; without one, only the files that never enter are out.
    pub(crate) fn load(dir: &Path) -> Result<Self, CliError> {
        let path = dir.join(".dockerignore");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(CliError::Io { path, source }),
        };
        Self::parse(&text).map_err(|e| CliError::Invalid(format!("{}: {e}", path.display())))
    }

    /// The filter of a `.dockerignore` whose text is `text`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let never = NEVER.iter().map(|p| compile(p)).collect::<Result<Vec<_>, _>>()?;
        let mut patterns = Vec::new();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (index, line) in text.lines().enumerate() {
            // As Docker: a comment only where the line starts with `#`.
            if line.starts_with('#') {
                continue;
            }
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            if pattern.is_empty() {
                return Err(format!("line {}: `!` without a pattern", index + 1));
            }
            let tokens =
                compile(&clean(pattern)).map_err(|e| format!("line {}: {line:?}: {e}", index + 1))?;
            patterns.push(Pattern { exception, tokens });
        }
        Ok(Self { patterns, never })
    }

    /// Whether `path` (relative to the context's root, `/`-separated, e.g. `src/main.rs`)
    /// stays out of the context.
    pub(crate) fn excludes(&self, path: &str) -> bool {
        let text: Vec<char> = path.chars().collect();
        // The directories `path` is in: a pattern that matches one of them matches `path`.
        let parents: Vec<&[char]> =
            text.iter().enumerate().filter(|&(_, c)| *c == '/').map(|(n, _)| &text[..n]).collect();
        let hits = |tokens: &[Token]| matches(tokens, &text) || parents.iter().any(|p| matches(tokens, p));
        if self.never.iter().any(|tokens| hits(tokens.as_slice())) {
            return true;
        }
        let mut excluded = false;
        for pattern in &self.patterns {
            // An exception only matters once the path is excluded, an exclusion only before.
            if pattern.exception != excluded {
                continue;
            }
            if hits(pattern.tokens.as_slice()) {
                excluded = !pattern.exception;
            }
        }
        excluded
    }
}

/// Go's `filepath.Clean` of a pattern, without a leading `/`: what Docker does to each line.
fn clean(pattern: &str) -> String {
    let rooted = pattern.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            _ => parts.push(part),
        }
    }
    match (parts.is_empty(), rooted) {
        (true, true) => "/".to_owned(),
        (true, false) => ".".to_owned(),
        (false, _) => parts.join("/"),
    }
}

/// The tokens of a cleaned pattern.
fn compile(pattern: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                tokens.push(if i == chars.len() { Token::Rest } else { Token::Dirs });
            }
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::One),
            '\\' => match chars.get(i) {
                Some(&next) => {
                    i += 1;
                    tokens.push(Token::Char(next));
                }
                None => tokens.push(Token::Char('\\')),
            },
            '[' => {
                let negated = chars.get(i) == Some(&'^');
                if negated {
                    i += 1;
                }
                let mut ranges = Vec::new();
                loop {
                    let Some(&first) = chars.get(i) else {
                        return Err("a `[` without its `]`".to_owned());
                    };
                    i += 1;
                    // `]` first in the class is one of its characters.
                    if first == ']' && !ranges.is_empty() {
                        break;
                    }
                    let low = if first == '\\' {
                        let Some(&escaped) = chars.get(i) else {
                            return Err("a `[` without its `]`".to_owned());
                        };
                        i += 1;
                        escaped
                    } else {
                        first
                    };
                    let high = match (chars.get(i), chars.get(i + 1)) {
                        (Some('-'), Some(&end)) if end != ']' => {
                            i += 2;
                            end
                        }
                        _ => low,
                    };
                    if high < low {
                        return Err(format!("the range `{low}-{high}` is backwards"));
                    }
                    ranges.push((low, high));
                }
                tokens.push(Token::Class { negated, ranges });
            }
            _ => tokens.push(Token::Char(c)),
        }
    }
    Ok(tokens)
}

/// Whether the whole of `text` matches `tokens`.
fn matches(tokens: &[Token], text: &[char]) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        return text.is_empty();
    };
    match first {
        Token::Char(c) => text.first() == Some(c) && matches(rest, &text[1..]),
        Token::One => text.first().is_some_and(|&c| c != '/') && matches(rest, &text[1..]),
        Token::Class { negated, ranges } => {
            text.first().is_some_and(|&c| ranges.iter().any(|&(low, high)| low <= c && c <= high) != *negated)
                && matches(rest, &text[1..])
        }
        Token::Star => {
            let mut n = 0;
            loop {
                if matches(rest, &text[n..]) {
                    return true;
                }
                if n == text.len() || text[n] == '/' {
                    return false;
                }
                n += 1;
            }
        }
        Token::Dirs => {
            matches(rest, text)
                || text.iter().enumerate().any(|(n, &c)| c == '/' && matches(rest, &text[n + 1..]))
        }
        Token::Rest => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(text: &str) -> Filter {
        Filter::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn local_env_files_are_out_whatever_the_file_says() {
        for text in ["", "!.env.local\n!.env.*.local\n", "!*\n", "!**\n"] {
            let f = filter(text);
            for out in [".env.local", ".env.prod.local", ".env..local"] {
                assert!(f.excludes(out), "{text:?}: {out}");
            }
            for kept in [".env", ".env.prod", ".env.localhost", ".env.local.example", "src/.env.local.rs"] {
                assert!(!f.excludes(kept), "{text:?}: {kept}");
            }
        }
    }

    #[test]
    fn the_scaffolded_dockerignore() {
        let f = filter(include_str!("../templates/dockerignore.j2"));
        for out in ["target", "target/debug/x", ".git/HEAD", "shop_deployment.yaml", ".env.dev.local"] {
            assert!(f.excludes(out), "{out}");
        }
        for kept in ["src/main.rs", "Cargo.lock", ".env", ".env.prod", "Dockerfile", "src/target.rs"] {
            assert!(!f.excludes(kept), "{kept}");
        }
    }

    #[test]
    fn docker_pattern_syntax() {
        let f = filter(
            "# a comment\n  \n\u{20}# not a comment: a pattern\n/secrets/\n./notes//*.md\nsrc/**/*.draft\n\
             !src/keep.draft\n**/*.bak\ndata?.csv\nlog[0-9]\n[^a-y]z\nlit\\*eral\nsub/dir/../x\n",
        );
        for out in [
            "secrets",
            "secrets/key.pem",
            "notes/a.md",
            "src/a.draft",
            "src/x/y/b.draft",
            "x.bak",
            "deep/down/x.bak",
            "data1.csv",
            "log7",
            "zz",
            "lit*eral",
            "sub/x",
            "# not a comment: a pattern",
        ] {
            assert!(f.excludes(out), "{out}");
        }
        for kept in [
            "notes/deeper/a.md",
            "src/keep.draft",
            "src/main.rs",
            "data10.csv",
            "data/.csv",
            "logs",
            "az",
            "litteral",
            "sub/dir/x",
            "a/secrets",
        ] {
            assert!(!f.excludes(kept), "{kept}");
        }
    }

    #[test]
    fn the_last_matching_line_decides() {
        let f = filter("src\n!src/main.rs\nsrc/main.rs\n");
        assert!(f.excludes("src/main.rs"));
        let f = filter("*\n!src\nsrc/scratch\n");
        assert!(!f.excludes("src/main.rs"));
        assert!(f.excludes("src/scratch/a.rs"));
        assert!(f.excludes("Cargo.lock"));
        let f = filter("**\n!Cargo.lock\n");
        assert!(!f.excludes("Cargo.lock"));
        assert!(f.excludes("src/main.rs"));
    }

    #[test]
    fn broken_patterns_are_refused() {
        for text in ["!\n", "log[0-9\n", "[z-a]\n"] {
            assert!(Filter::parse(text).is_err(), "{text:?}");
        }
    }
}
