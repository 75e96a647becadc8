//! Markup built by hand, escaped by default.
//!
//! [`Html`] accepts markup only as `&'static str` (literals in the source, which a user cannot
//! write) or as another `Html`; everything else goes through [`Html::text`], which escapes
//! `& < > " '`, so it is safe both between tags and inside quoted attribute values. The
//! [`html!`](crate::html) macro writes a run of pieces: string literals are markup, `{expr}` is
//! text (escaped; anything `Display`), `[expr]` is an `Html` built elsewhere.
use std::fmt::{Display, Write};

/// Markup under construction.
#[derive(Debug, Default, Clone)]
pub struct Html(String);

impl Html {
    pub fn new() -> Html {
        Html(String::with_capacity(4096))
    }

    /// Trusted markup: only literals (`'static`) are accepted.
    pub fn raw(&mut self, markup: &'static str) -> &mut Self {
        self.0.push_str(markup);
        self
    }

    /// Text, escaped for use between tags or inside a quoted attribute.
    pub fn text(&mut self, t: impl Display) -> &mut Self {
        let mut s = String::new();
        let _ = write!(s, "{t}");
        escape_into(&mut self.0, &s);
        self
    }

    /// Markup built by another `Html`.
    pub fn push(&mut self, other: &Html) -> &mut Self {
        self.0.push_str(&other.0);
        self
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Appends `s` to `out` with `& < > " '` escaped.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `s` escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

/// `html!(h; "<td>" {value} "</td>" [other_html])`: literals are markup, `{e}` escaped text,
/// `[e]` an `Html`.
#[macro_export]
macro_rules! html {
    ($h:expr; ) => {};
    ($h:expr; $lit:literal $($rest:tt)*) => {
        $h.raw($lit);
        $crate::html!($h; $($rest)*);
    };
    ($h:expr; {$e:expr} $($rest:tt)*) => {
        $h.text(&$e);
        $crate::html!($h; $($rest)*);
    };
    ($h:expr; [$e:expr] $($rest:tt)*) => {
        $h.push(&$e);
        $crate::html!($h; $($rest)*);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_literals_are_not() {
        let mut h = Html::new();
        let hostile = "<script>alert('x')</script> & \"q\"";
        crate::html!(h; "<p title=\"" {hostile} "\">" {hostile} "</p>" {42});
        assert_eq!(
            h.as_str(),
            "<p title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;\">\
             &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</p>42"
        );
        let mut outer = Html::new();
        crate::html!(outer; "<div>" [h] "</div>");
        assert!(outer.as_str().starts_with("<div><p title="));
        assert_eq!(escape("a<b"), "a&lt;b");
    }
}
