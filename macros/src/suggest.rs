//! "Did you mean": the closest known name by edit distance, ignoring case and underscores.

/// What Keras and PyTorch call some of typenet's layers.
const ALIASES: &[(&str, &str)] = &[
    ("maxpooling2d", "MaxPool"),
    ("maxpool2d", "MaxPool"),
    ("averagepooling2d", "AvgPool"),
    ("avgpool2d", "AvgPool"),
    ("globalaveragepooling2d", "GlobalAvgPool"),
    ("globalmaxpooling2d", "GlobalMaxPool"),
    ("maxpooling1d", "MaxPool1D"),
    ("averagepooling1d", "AvgPool1D"),
    ("globalaveragepooling1d", "GlobalAvgPool1D"),
    ("globalmaxpooling1d", "GlobalMaxPool1D"),
    ("batchnormalization", "BatchNorm"),
    ("batchnorm2d", "BatchNorm"),
    ("batchnorm1d", "BatchNorm"),
    ("linear", "Dense"),
    ("rnn", "SimpleRNN"),
];

/// The candidate closest to `word`, if it is close enough to be a likely typo, or the one
/// Keras or PyTorch spell `word`.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| s.to_lowercase().replace('_', "");
    let word = norm(word);
    if let Some((_, ours)) = ALIASES.iter().find(|(alias, _)| *alias == word) {
        if let Some(c) = candidates.iter().find(|c| *c == ours) {
            return Some(c);
        }
    }
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(&word, &norm(c)), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keras_and_case_typos() {
        let known = ["Conv2D", "MaxPool", "Dense", "LSTM", "GlobalAvgPool"];
        assert_eq!(did_you_mean("Conv2d", &known), Some("Conv2D"));
        assert_eq!(did_you_mean("MaxPoo", &known), Some("MaxPool"));
        assert_eq!(did_you_mean("MaxPooling2D", &known), Some("MaxPool"));
        assert_eq!(did_you_mean("Lstm", &known), Some("LSTM"));
        assert_eq!(did_you_mean("Transformer", &known), None);
    }
}
