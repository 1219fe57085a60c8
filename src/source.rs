//! The files a site is made of, and byte spans into them.
//!
//! Spans are byte ranges everywhere in the library; line and column are only
//! computed when a diagnostic is rendered (as selene does).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range in one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: clamp_u32(start),
            end: clamp_u32(end.max(start)),
        }
    }

    /// An empty span at the start of a file, for problems that belong to the
    /// whole file.
    pub fn file_start(file: FileId) -> Span {
        Span::new(file, 0, 0)
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One loaded file: its path relative to the site directory (as Gluon names
/// it in messages, e.g. `domains/foo.conf`), its full path and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: String, path: PathBuf, text: String) -> SourceFile {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            name,
            path,
            text,
            line_starts,
        }
    }

    /// 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |prefix| prefix.chars().count());
        (line + 1, column + 1)
    }

    /// Byte offset of the start of a 1-based line, clamped to the text.
    pub fn line_start(&self, line: usize) -> usize {
        let index = line.saturating_sub(1);
        self.line_starts
            .get(index)
            .copied()
            .unwrap_or(self.text.len())
    }

    /// The text of a 1-based line without its line terminator.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_start(line);
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |&next| next);
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    /// A span covering a whole 1-based line (without its terminator).
    pub fn line_span(&self, file: FileId, line: usize) -> Span {
        let start = self.line_start(line);
        Span::new(file, start, start + self.line_text(line).len())
    }
}

/// All files read while loading one site.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// Where each path is in `files` (a site may have thousands of domains).
    by_path: HashMap<PathBuf, u32>,
}

impl SourceMap {
    pub fn add(&mut self, name: String, path: PathBuf, text: String) -> FileId {
        if let Some(&existing) = self.by_path.get(&path) {
            return FileId(existing);
        }
        let id = self.files.len() as u32;
        self.by_path.insert(path.clone(), id);
        self.files.push(SourceFile::new(name, path, text));
        FileId(id)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.by_path.get(path).map(|&i| FileId(i))
    }

    pub fn find_name(&self, name: &str) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.name == name)
            .map(|i| FileId(i as u32))
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let file = SourceFile::new("x".into(), "x".into(), "ab\nc\u{e4}d\n".into());
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        // 'd' follows the two-byte 'ä'
        assert_eq!(file.line_col(6), (2, 3));
        assert_eq!(file.line_text(2), "c\u{e4}d");
        assert_eq!(file.line_text(3), "");
    }
}
