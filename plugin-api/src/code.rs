//! `abi_code!`: open-ended enumerations that can grow without breaking the ABI.
//!
//! A plain `#[repr(u8)]` enum cannot gain variants once plugins are built
//! against it. These are `u8` newtypes with named constants instead: a value a
//! reader does not know is still representable, and readers must treat it as
//! "unknown", never as a default.

/// Declares an open enumeration: a `#[repr(transparent)]` `u8` newtype with
/// named constants, a `name()` for display and a `from_name()` for parsing.
#[macro_export]
macro_rules! abi_code {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[repr(transparent)]
        #[derive(
            $crate::abi_stable::StableAbi, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
        )]
        pub struct $name(pub u8);

        impl $name {
            $( $(#[$vmeta])* pub const $variant: $name = $name($value); )+

            /// Every value this version of the ABI knows.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The lower-case name of a known value, `None` for a value from a
            /// newer ABI.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($text), )+
                    _ => None,
                }
            }

            /// Looks a value up by its name (case-insensitive).
            pub fn from_name(text: &str) -> Option<$name> {
                $( if text.eq_ignore_ascii_case($text) { return Some($name::$variant); } )+
                None
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self.name() {
                    Some(text) => f.write_str(text),
                    None => write!(f, "{}({})", stringify!($name), self.0),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(self, f)
            }
        }
    };
}
