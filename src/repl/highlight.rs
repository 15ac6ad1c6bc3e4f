//! Colours for a line being typed: keywords, strings, numbers, labels and types, parameters
//! and comments. Only escape codes are added; the text itself is unchanged, so the cursor
//! stays where the editor thinks it is.

use super::helper::KEYWORDS;

const KEYWORD: &str = "\x1b[1;34m";
const STRING: &str = "\x1b[32m";
const NUMBER: &str = "\x1b[33m";
const NAME: &str = "\x1b[36m";
const PARAM: &str = "\x1b[35m";
const COMMENT: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// The line with ANSI colours.
pub fn colored(line: &str) -> String {
    let mut out = String::with_capacity(line.len() * 2);
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let end_of = |k: usize| chars.get(k).map_or(line.len(), |c| c.0);
    let mut k = 0;
    // The previous character that is not whitespace, for `:Label`.
    let mut prev = ' ';
    while k < chars.len() {
        let (i, c) = chars[k];
        let next = chars.get(k + 1).map(|x| x.1);
        let (len, color) = if c == '"' || c == '\'' {
            let mut j = k + 1;
            while j < chars.len() && chars[j].1 != c {
                j += if chars[j].1 == '\\' { 2 } else { 1 };
            }
            ((j + 1).min(chars.len()) - k, Some(STRING))
        } else if c == '/' && next == Some('/') {
            (chars.len() - k, Some(COMMENT))
        } else if c == '/' && next == Some('*') {
            let mut j = k + 2;
            while j + 1 < chars.len() && !(chars[j].1 == '*' && chars[j + 1].1 == '/') {
                j += 1;
            }
            ((j + 2).min(chars.len()) - k, Some(COMMENT))
        } else if c.is_ascii_digit() && !is_word(prev_char(&chars, k)) {
            let mut j = k;
            while j < chars.len() && (chars[j].1.is_ascii_alphanumeric() || chars[j].1 == '.') {
                // `1..3` is a range: stop before `..`.
                if chars[j].1 == '.' && chars.get(j + 1).map(|x| x.1) == Some('.') {
                    break;
                }
                j += 1;
            }
            (j - k, Some(NUMBER))
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let mut j = k + 1;
            while j < chars.len() && is_word(chars[j].1) {
                j += 1;
            }
            let word = &line[i..end_of(j)];
            let color = if c == '$' {
                Some(PARAM)
            } else if prev == ':' && prev_char(&chars, k) == ':' {
                Some(NAME)
            } else if KEYWORDS.iter().any(|kw| kw.eq_ignore_ascii_case(word)) {
                Some(KEYWORD)
            } else {
                None
            };
            (j - k, color)
        } else {
            (1, None)
        };
        let text = &line[i..end_of(k + len)];
        match color {
            Some(code) => {
                out.push_str(code);
                out.push_str(text);
                out.push_str(RESET);
            }
            None => out.push_str(text),
        }
        if let Some(last) = text.chars().rev().find(|c| !c.is_whitespace()) {
            prev = last;
        }
        k += len.max(1);
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn prev_char(chars: &[(usize, char)], k: usize) -> char {
    k.checked_sub(1).map_or(' ', |p| chars[p].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(s: &str) -> String {
        let mut out = String::new();
        let mut in_escape = false;
        for c in s.chars() {
            match (in_escape, c) {
                (false, '\x1b') => in_escape = true,
                (true, 'm') => in_escape = false,
                (true, _) => {}
                (false, c) => out.push(c),
            }
        }
        out
    }

    #[test]
    fn colours_keep_the_text_and_mark_each_kind_of_token() {
        let line = "MATCH (a:Actor {name: \"Ban\\\"ten\"})-[:PARTY_TO*1..2]->(g) WHERE g.n > 2.5 \
                    AND a.x = $p RETURN a // done";
        let c = colored(line);
        assert_eq!(strip(&c), line);
        assert!(c.starts_with("\x1b[1;34mMATCH\x1b[0m"), "{c:?}");
        assert!(c.contains("\x1b[36mActor\x1b[0m"), "{c:?}");
        assert!(c.contains("\x1b[36mPARTY_TO\x1b[0m"), "{c:?}");
        assert!(c.contains("\x1b[32m\"Ban\\\"ten\"\x1b[0m"), "{c:?}");
        assert!(c.contains("\x1b[33m1\x1b[0m..\x1b[33m2\x1b[0m"), "{c:?}");
        assert!(c.contains("\x1b[33m2.5\x1b[0m"), "{c:?}");
        assert!(c.contains("\x1b[35m$p\x1b[0m"), "{c:?}");
        assert!(c.ends_with("\x1b[2m// done\x1b[0m"), "{c:?}");
        // A name that contains a keyword is not one.
        assert!(!colored("RETURN matched").contains("\x1b[1;34mmatch"));
    }

    #[test]
    fn unfinished_strings_and_odd_text_are_coloured_without_panicking() {
        for line in ["\"open", "'", "/*", "1.", "é\"ü", "a:", ":", "$", "\\"] {
            assert_eq!(strip(&colored(line)), line);
        }
    }
}
