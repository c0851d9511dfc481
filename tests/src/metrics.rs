//! Reading values out of Prometheus text (`/metrics`).

/// The sum of the samples named exactly `name` whose labels include every `(label, value)` of
/// `labels`; `None` when there is no such sample.
pub fn metric_sum(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut sum = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let (label_text, value_text) = if let Some(inner) = rest.strip_prefix('{') {
            match inner.rfind('}') {
                Some(end) => (&inner[..end], &inner[end + 1..]),
                None => continue,
            }
        } else if rest.starts_with(' ') {
            ("", rest)
        } else {
            continue; // a longer name with this prefix
        };
        let wanted = labels
            .iter()
            .all(|(k, v)| label_text.contains(&format!("{k}=\"{v}\"")));
        if !wanted {
            continue;
        }
        let Some(value) = value_text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok())
        else {
            continue;
        };
        *sum.get_or_insert(0.0) += value;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# HELP sluice_x_total x\n# TYPE sluice_x_total counter\n\
        sluice_x_total{output=\"a\"} 3\nsluice_x_total{output=\"b\"} 4 1700000000\n\
        sluice_x_total_more 100\nsluice_y 2.5\n";

    #[test]
    fn sums_matching_samples() {
        assert_eq!(metric_sum(TEXT, "sluice_x_total", &[]), Some(7.0));
        assert_eq!(
            metric_sum(TEXT, "sluice_x_total", &[("output", "b")]),
            Some(4.0)
        );
        assert_eq!(metric_sum(TEXT, "sluice_y", &[]), Some(2.5));
        assert_eq!(metric_sum(TEXT, "sluice_z", &[]), None);
    }
}
