//! Bar charts drawn on the server as inline SVG: no script, no image to fetch. Each
//! bar is a stack of parts and carries its own words (`<title>`) for a pointer; the
//! page puts a table of the same numbers beside every chart for screen readers and
//! copy-paste.

use maud::{Markup, html};

/// One bar: its label under the axis, its parts from the bottom up (value and CSS
/// class), and what it says in words.
pub struct Bar {
    pub label: String,
    pub parts: Vec<(f64, &'static str)>,
    pub words: String,
}

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 36.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 8.0;

/// Trims a coordinate to a tenth: short, and exact enough for a screen.
fn at(value: f64) -> String {
    format!("{:.1}", value)
}

/// The rectangles (top, height, class) of a bar's parts stacked from the bottom;
/// `y_of` maps a value on the scale to its height on the page.
fn stacked(
    parts: &[(f64, &'static str)],
    y_of: impl Fn(f64) -> f64,
) -> Vec<(f64, f64, &'static str)> {
    let mut base = 0.0;
    parts
        .iter()
        .map(|&(value, class)| {
            let (bottom, top) = (y_of(base), y_of(base + value));
            base += value;
            (top, bottom - top, class)
        })
        .collect()
}

/// A bar chart of `bars` on a scale from 0 to `max`, its axis marked with `ticks`
/// (value, label). `caption` names it for assistive technology.
pub fn bar_chart(caption: &str, bars: &[Bar], max: f64, ticks: &[(f64, String)]) -> Markup {
    let plot_height = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / bars.len().max(1) as f64;
    // A few bars stay bars, not slabs.
    let bar_width = (slot * 0.7).clamp(1.0, 48.0);
    let scale = |value: f64| {
        if max > 0.0 {
            value.clamp(0.0, max) / max * plot_height
        } else {
            0.0
        }
    };
    // Every label fits when there are few bars; else every few.
    let label_every = (bars.len() / 9).max(1);
    html! {
        svg.chart viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(caption)
            xmlns="http://www.w3.org/2000/svg" {
            @for (value, label) in ticks {
                @let y = at(TOP + plot_height - scale(*value));
                line.axis x1=(at(LEFT - 4.0)) x2=(at(WIDTH)) y1=(y) y2=(y) stroke-opacity="0.3" {}
                text x=(at(LEFT - 6.0)) y=(y) text-anchor="end" dominant-baseline="middle" { (label) }
            }
            line.axis x1=(at(LEFT)) x2=(at(WIDTH)) y1=(at(TOP + plot_height)) y2=(at(TOP + plot_height)) {}
            @for (index, bar) in bars.iter().enumerate() {
                @let x = LEFT + slot * index as f64 + (slot - bar_width) / 2.0;
                g {
                    title { (bar.words) }
                    @for (top, height, class) in stacked(&bar.parts, |v| TOP + plot_height - scale(v)) {
                        rect class={ "bar " (class) } x=(at(x)) y=(at(top)) width=(at(bar_width))
                            height=(at(height)) {}
                    }
                }
                @if index % label_every == 0 {
                    // Every other label is "minor": a phone shows only the others, larger.
                    text.label.minor[(index / label_every) % 2 == 1] x=(at(x + bar_width / 2.0))
                        y=(at(HEIGHT - 10.0)) text-anchor="middle" { (bar.label) }
                }
            }
        }
    }
}

/// Ticks at 0, 50 and 100 %.
pub fn percent_ticks() -> Vec<(f64, String)> {
    vec![
        (0.0, "0%".into()),
        (0.5, "50%".into()),
        (1.0, "100%".into()),
    ]
}

/// Ticks at 0, half and all of `max` (a count), whole numbers only.
pub fn count_ticks(max: i64) -> Vec<(f64, String)> {
    let mut ticks = vec![(0.0, "0".to_owned()), (max as f64, max.to_string())];
    if max >= 2 {
        let half = max / 2;
        ticks.insert(1, (half as f64, half.to_string()));
    }
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, parts: Vec<(f64, &'static str)>) -> Bar {
        Bar {
            label: label.into(),
            parts,
            words: format!("{label} in words"),
        }
    }

    #[test]
    fn bars_are_as_tall_as_their_values_and_stack() {
        let svg = bar_chart(
            "Answered",
            &[
                bar("a", vec![(1.0, "")]),
                bar("b", vec![(2.0, ""), (2.0, "low")]),
            ],
            4.0,
            &count_ticks(4),
        )
        .into_string();
        let plot = HEIGHT - BOTTOM - TOP;
        // A quarter of the plot, then a half stacked on a half.
        assert!(
            svg.contains(&format!("height=\"{}\"", at(plot / 4.0))),
            "{svg}"
        );
        assert_eq!(
            svg.matches(&format!("height=\"{}\"", at(plot / 2.0)))
                .count(),
            2
        );
        assert!(svg.contains("<title>b in words</title>"));
        assert!(svg.contains("role=\"img\" aria-label=\"Answered\""));
    }

    #[test]
    fn many_bars_are_labelled_every_few_and_a_phone_keeps_every_other_label() {
        let bars: Vec<Bar> = (0..26)
            .map(|week| bar(&format!("w{week}"), vec![(1.0, "")]))
            .collect();
        let svg = bar_chart("Weeks", &bars, 1.0, &percent_ticks()).into_string();
        assert_eq!(svg.matches("class=\"label\"").count(), 7, "{svg}");
        assert_eq!(svg.matches("class=\"label minor\"").count(), 6);
        assert!(svg.contains(">w0</text>") && svg.contains(">w24</text>"));
        assert!(!svg.contains(">w1</text>"));
    }

    #[test]
    fn an_empty_scale_draws_flat_bars_not_nan() {
        let svg = bar_chart("None", &[bar("a", vec![(0.0, "")])], 0.0, &[]).into_string();
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }
}
