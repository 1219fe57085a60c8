//! Lua 5.1 pattern matching, done by Lua 5.1 itself.
//!
//! Gluon's checks match strings with `string.match`; patterns such as
//! `'^%d+.%d+.%d+.%d+/%d+$'` (where `.` is any character) only behave the same
//! when Lua's own matcher runs them, so gluonvpn asks the embedded Lua.

use mlua::{Function, Lua, LuaOptions, StdLib};
use std::cell::RefCell;
use std::collections::HashMap;

pub struct LuaPatterns {
    lua: Lua,
    find: Function,
    cache: RefCell<HashMap<(String, String), Result<bool, String>>>,
}

impl LuaPatterns {
    pub fn new() -> mlua::Result<LuaPatterns> {
        let lua = Lua::new_with(StdLib::STRING, LuaOptions::default())?;
        let find = lua
            .load("local find = string.find return function(s, p) return find(s, p) ~= nil end")
            .set_name("=gluonvpn-patterns")
            .eval::<Function>()?;
        Ok(LuaPatterns {
            lua,
            find,
            cache: RefCell::new(HashMap::new()),
        })
    }

    /// Whether `pattern` matches somewhere in `subject`, as
    /// `subject:match(pattern) ~= nil` in Lua 5.1. A malformed pattern is an
    /// error with Lua's message.
    pub fn matches(&self, subject: &str, pattern: &str) -> Result<bool, String> {
        if let Some(max) = length_limit(pattern) {
            return Ok(subject.len() <= max);
        }
        let key = (subject.to_string(), pattern.to_string());
        if let Some(hit) = self.cache.borrow().get(&key) {
            return hit.clone();
        }
        let result = self
            .lua
            .create_string(subject)
            .and_then(|s| self.find.call::<bool>((s, pattern)))
            .map_err(|e| e.to_string());
        self.cache.borrow_mut().insert(key, result.clone());
        result
    }
}

/// Gluon limits lengths with `'^' .. ('.?'):rep(n) .. '$'` (SSIDs, mesh IDs:
/// at most n bytes). Lua's backtracking matcher needs about 2^n steps to
/// reject a longer string (half a minute for n = 32, in Gluon as well), so
/// such a pattern is answered by the length it stands for.
fn length_limit(pattern: &str) -> Option<usize> {
    let body = pattern.strip_prefix('^')?.strip_suffix('$')?;
    (body.len() % 2 == 0 && body.as_bytes().chunks(2).all(|pair| pair == b".?"))
        .then_some(body.len() / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lua_semantics_not_regex_semantics() {
        let p = LuaPatterns::new().expect("lua");
        let ipv4 = "^%d+.%d+.%d+.%d+/%d+$";
        assert_eq!(p.matches("10.0.0.0/16", ipv4), Ok(true));
        // `.` is any character in Lua too
        assert_eq!(p.matches("10x0y0z0/16", ipv4), Ok(true));
        assert_eq!(p.matches("10.0.0/16", ipv4), Ok(false));
        // unanchored patterns match anywhere
        assert_eq!(p.matches("see http://x", "http://"), Ok(true));
        assert_eq!(
            p.matches(&"ab".repeat(32), &format!("^{}$", "%x".repeat(64))),
            Ok(true)
        );
        assert_eq!(p.matches("ab", "^[%x:]+/64$"), Ok(false));
        assert!(p.matches("x", "%").is_err());
        // cached answers stay the same
        assert_eq!(p.matches("10.0.0.0/16", ipv4), Ok(true));
    }

    #[test]
    fn length_limits_answer_as_lua_does_without_backtracking() {
        let p = LuaPatterns::new().expect("lua");
        for n in 0..6 {
            let pattern = format!("^{}$", ".?".repeat(n));
            assert_eq!(length_limit(&pattern), Some(n));
            for len in 0..9 {
                let subject = "a.\0".repeat(3)[..len].to_string();
                let lua = p
                    .find
                    .call::<bool>((
                        p.lua.create_string(&subject).expect("string"),
                        pattern.as_str(),
                    ))
                    .map_err(|e| e.to_string());
                assert_eq!(p.matches(&subject, &pattern), lua, "{n} {len}");
            }
        }
        assert_eq!(length_limit("^.?.?"), None);
        assert_eq!(length_limit("^.?.$"), None);
        assert_eq!(length_limit("^%.?$"), None);
        // 32 bytes pass, 33 fail, in no time
        let ssid = format!("^{}$", ".?".repeat(32));
        assert_eq!(p.matches(&"x".repeat(32), &ssid), Ok(true));
        assert_eq!(p.matches(&"x".repeat(33), &ssid), Ok(false));
    }
}
