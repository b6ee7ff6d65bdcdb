//! Stable codes with Chinese and English labels.
//!
//! Every enumeration of the campaign (study modes, opinion channels, statuses…)
//! is declared once with [`coded_enum!`]: the code is what goes on the wire and
//! on disk and never changes; the labels are what people read.

use crate::catalog::CodeList;

/// A language labels can be shown in. Chinese comes first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Lang {
    /// 中文 (the default).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// `zh` or `en`; anything else is `None`.
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "zh" | "zh-CN" | "zh_CN" => Some(Lang::Zh),
            "en" | "en-US" | "en_US" | "en-GB" => Some(Lang::En),
            _ => None,
        }
    }
}

/// What every coded enumeration offers, for code that lists or labels them generically.
pub trait Coded: Sized + Copy + 'static {
    /// The enumeration's name as its code, e.g. `study_mode`.
    const NAME: &'static str;
    /// Every value's code and labels, in display order.
    const LIST: CodeList;
    /// Every value, in display order.
    fn all() -> &'static [Self];
    /// The stable code.
    fn code(self) -> &'static str;
    /// The label in a language.
    fn label(self, lang: Lang) -> &'static str;
    /// The value with this code.
    fn from_code(code: &str) -> Option<Self>;
    /// `code1, code2, …`, for error messages and help text.
    fn codes_list() -> String {
        Self::all()
            .iter()
            .map(|v| v.code())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Declares an enumeration with a stable code and a Chinese and an English
/// label per value, and its serde, `FromStr` and `Display` forms (all by
/// code), its place in the field tables and typed rows (a coded field, a
/// text column), and, with the `uniffi` feature, a Kotlin enum.
#[macro_export]
macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident as $ename:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, $zh:literal, $en:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
        $vis enum $name {
            $( $(#[$vmeta])* #[doc = $zh] #[doc = $en] $variant, )+
        }

        impl $crate::codes::Coded for $name {
            const NAME: &'static str = $ename;
            const LIST: $crate::catalog::CodeList = $crate::catalog::CodeList {
                name: $ename,
                values: &[$($crate::catalog::CodeValue { code: $code, zh: $zh, en: $en },)+],
            };
            fn all() -> &'static [Self] {
                &[$($name::$variant),+]
            }
            fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            fn label(self, lang: $crate::codes::Lang) -> &'static str {
                match lang {
                    $crate::codes::Lang::Zh => match self { $($name::$variant => $zh),+ },
                    $crate::codes::Lang::En => match self { $($name::$variant => $en),+ },
                }
            }
            fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        $crate::coded_traits!($name);
    };
}

/// What every coded enumeration has besides its table (see [`coded_enum!`]):
/// `code` and `label` methods, `Display`, `FromStr` and serde by code, a
/// coded field's type and a text column.
#[macro_export]
macro_rules! coded_traits {
    ($name:ident) => {
        impl $name {
            /// The stable code.
            pub fn code(self) -> &'static str {
                $crate::codes::Coded::code(self)
            }
            /// The label in a language.
            pub fn label(self, lang: $crate::codes::Lang) -> &'static str {
                $crate::codes::Coded::label(self, lang)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                <$name as $crate::codes::Coded>::from_code(s).ok_or_else(|| {
                    format!(
                        "`{}` is not a {} code; expected one of: {}",
                        s,
                        <$name as $crate::codes::Coded>::NAME,
                        <$name as $crate::codes::Coded>::codes_list()
                    )
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl $crate::records::field::FieldValue for $name {
            const TYPE: $crate::records::field::ValueType = $crate::records::field::ValueType::one(
                $crate::records::field::Scalar::Code(&<$name as $crate::codes::Coded>::LIST),
            );
        }

        impl $crate::records::row::CellValue for $name {
            const SQL: $crate::records::row::SqlType = $crate::records::row::SqlType::Text;
            fn cell(&self) -> $crate::records::row::Cell<'_> {
                $crate::records::row::Cell::Str(std::borrow::Cow::Borrowed(self.code()))
            }
        }

        impl $crate::records::row::IntoCell<'_> for $name {
            fn into_cell(self) -> $crate::records::row::Cell<'static> {
                $crate::records::row::Cell::Str(std::borrow::Cow::Borrowed(self.code()))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    coded_enum! {
        /// A test enumeration.
        enum Colour as "colour" {
            Red = "red", "红", "Red";
            Green = "green", "绿", "Green";
        }
    }

    #[test]
    fn codes_and_labels_round_trip() {
        assert_eq!(Colour::Red.code(), "red");
        assert_eq!(Colour::Green.label(Lang::Zh), "绿");
        assert_eq!("green".parse::<Colour>(), Ok(Colour::Green));
        assert_eq!(
            serde_json::to_string(&Colour::Red).unwrap_or_default(),
            "\"red\""
        );
        let err = "blue".parse::<Colour>().unwrap_err();
        assert!(err.contains("red, green"), "{err}");
    }
}
