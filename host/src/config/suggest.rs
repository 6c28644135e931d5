//! "Did you mean …?": the known name nearest to a misspelt one.

/// The candidate nearest to `name`, if it is near enough to be a typo.
pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), *candidate))
        .filter(|(similarity, _)| *similarity >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_near_name_is_suggested_and_a_far_one_is_not() {
        let plugins = ["testex", "exchange-one", "exchange-two"];
        assert_eq!(closest("tsetex", &plugins), Some("testex"));
        assert_eq!(closest("exchange-too", &plugins), Some("exchange-two"));
        assert_eq!(closest("kraken", &plugins), None);
        let keys = ["id", "plugins_dir", "state_dir", "log_level"];
        assert_eq!(closest("plugin_dir", &keys), Some("plugins_dir"));
        assert_eq!(closest("loglevel", &keys), Some("log_level"));
        assert_eq!(closest("colour", &keys), None);
    }
}
