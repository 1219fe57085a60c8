//! The Gluon releases whose behaviour gluonvpn reproduces.

use std::fmt;
use std::str::FromStr;

/// A Gluon release line. Each is modelled on the newest tag of the line
/// (see [`GluonVersion::tag`]); the checks do not change within a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GluonVersion {
    V2022_1,
    V2023_1,
    V2023_2,
    V2025_1,
}

impl GluonVersion {
    pub const ALL: [GluonVersion; 4] = [
        GluonVersion::V2022_1,
        GluonVersion::V2023_1,
        GluonVersion::V2023_2,
        GluonVersion::V2025_1,
    ];

    pub const NEWEST: GluonVersion = GluonVersion::V2025_1;

    /// The release line, e.g. `v2025.1`.
    pub fn label(self) -> &'static str {
        match self {
            GluonVersion::V2022_1 => "v2022.1",
            GluonVersion::V2023_1 => "v2023.1",
            GluonVersion::V2023_2 => "v2023.2",
            GluonVersion::V2025_1 => "v2025.1",
        }
    }

    /// The tag whose sources the model follows.
    pub fn tag(self) -> &'static str {
        match self {
            GluonVersion::V2022_1 => "v2022.1.4",
            GluonVersion::V2023_1 => "v2023.1.2",
            GluonVersion::V2023_2 => "v2023.2.6",
            GluonVersion::V2025_1 => "v2025.1.3",
        }
    }
}

impl fmt::Display for GluonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Gluon version '{0}': gluonvpn knows v2022.1, v2023.1, v2023.2 and v2025.1 (written as v2025.1, 2025.1 or a tag such as v2025.1.3)")]
pub struct UnknownVersion(pub String);

impl FromStr for GluonVersion {
    type Err = UnknownVersion;

    /// Accepts `v2025.1`, `2025.1` and full tags such as `v2025.1.3`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let bare = trimmed.strip_prefix('v').unwrap_or(trimmed);
        let mut parts = bare.split('.');
        let (Some(year), Some(minor)) = (parts.next(), parts.next()) else {
            return Err(UnknownVersion(s.to_string()));
        };
        // A patch level, if any, must be a number: `v2025.1.x` is not a tag.
        if let Some(patch) = parts.next() {
            if patch.is_empty()
                || !patch.bytes().all(|b| b.is_ascii_digit())
                || parts.next().is_some()
            {
                return Err(UnknownVersion(s.to_string()));
            }
        }
        GluonVersion::ALL
            .into_iter()
            .find(|v| v.label()[1..] == format!("{year}.{minor}"))
            .ok_or_else(|| UnknownVersion(s.to_string()))
    }
}

/// Several releases as a user names them: `all`, or a comma-separated list
/// (`v2023.2,v2025.1`); oldest first, each once.
pub fn parse_list(s: &str) -> Result<Vec<GluonVersion>, UnknownVersion> {
    if s.trim() == "all" {
        return Ok(GluonVersion::ALL.to_vec());
    }
    let mut versions = s
        .split(',')
        .map(str::parse)
        .collect::<Result<Vec<GluonVersion>, _>>()?;
    versions.sort_unstable();
    versions.dedup();
    Ok(versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_spellings_users_write() {
        for s in ["v2025.1", "2025.1", "v2025.1.3", "2025.1.0"] {
            assert_eq!(s.parse(), Ok(GluonVersion::V2025_1), "{s}");
        }
        assert_eq!("v2022.1.4".parse(), Ok(GluonVersion::V2022_1));
    }

    #[test]
    fn lists_name_several_releases() {
        assert_eq!(parse_list("all"), Ok(GluonVersion::ALL.to_vec()));
        assert_eq!(
            parse_list("v2025.1,2023.2,v2025.1.3"),
            Ok(vec![GluonVersion::V2023_2, GluonVersion::V2025_1])
        );
        assert_eq!(parse_list("v2022.1"), Ok(vec![GluonVersion::V2022_1]));
        for bad in ["", "v2023.2,", "v2023.2,main", "al"] {
            assert!(parse_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_unknown_lines_and_garbage() {
        for s in ["v2024.1", "2025", "v2025.1.x", "main", "", "v2025.1.3.1"] {
            assert!(s.parse::<GluonVersion>().is_err(), "{s}");
        }
    }
}
