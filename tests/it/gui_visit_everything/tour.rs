//! The tour's harness: clicks, checks and what the visits found.

use super::*;

/// The harness, and what the visits found.
pub(super) struct Tour {
    pub(super) h: AppHarness,
    /// `place: unnamed widgets` for every place that fails the accessibility check.
    pub(super) unnamed: Vec<String>,
    /// Things that do not work as they should, found on the way (the visit
    /// goes on so that every one of them is reported).
    pub(super) defects: Vec<String>,
    /// The unnamed widgets already listed.
    pub(super) seen: std::collections::BTreeSet<String>,
    /// Places checked.
    pub(super) places: usize,
    pub(super) started: Instant,
}

impl Tour {
    pub(super) fn new(paths: Vec<PathBuf>, runs: &Path) -> Self {
        let h = harness(app_with_runs(paths, runs), 1400.0, 900.0);
        Self {
            h,
            unnamed: Vec::new(),
            defects: Vec::new(),
            seen: Default::default(),
            places: 0,
            started: Instant::now(),
        }
    }

    pub(super) fn app(&self) -> &SpindleApp {
        self.h.state()
    }

    pub(super) fn steps(&mut self, n: usize) {
        self.h.run_steps(n);
    }

    /// Steps until `done` holds, failing after `limit_s` with `what`.
    pub(super) fn until(&mut self, what: &str, limit_s: u64, done: impl Fn(&SpindleApp) -> bool) {
        let started = Instant::now();
        while !done(self.h.state()) {
            assert!(
                started.elapsed() < Duration::from_secs(limit_s),
                "{what} did not happen within {limit_s} s; errors: {:?}; busy {}, \
                 open {:?}, {} recordings, {} runs, tab {:?}",
                self.h.state().parts().shell.errors,
                self.h.state().is_busy(),
                self.h.state().parts().recording.path(),
                self.h.state().parts().shell.browser.entries.len(),
                self.h.state().parts().runs.panel.entries().len(),
                self.h.state().parts().shell.tab,
            );
            self.h.step();
            std::thread::sleep(Duration::from_millis(5));
        }
        self.h.run_steps(2);
    }

    /// True when some node's label contains `text`.
    pub(super) fn shows(&self, text: &str) -> bool {
        self.h.query_all_by_label_contains(text).next().is_some()
    }

    #[track_caller]
    pub(super) fn expect(&self, text: &str) {
        assert!(self.shows(text), "`{text}` is not shown");
    }

    #[track_caller]
    pub(super) fn expect_not(&self, text: &str) {
        let shown: Vec<String> = self
            .h
            .query_all_by_label_contains(text)
            .map(|n| format!("{:?} {:?}", n.accesskit_node().role(), n.rect()))
            .collect();
        assert!(shown.is_empty(), "`{text}` is still shown: {shown:?}");
    }

    /// True when a node of `role` is labeled exactly `label`.
    pub(super) fn has(&self, role: Role, label: &str) -> bool {
        self.h
            .query_all_by_role_and_label(role, label)
            .next()
            .is_some()
    }

    /// Clicks the one node labeled `label` with the mouse.
    #[track_caller]
    pub(super) fn click(&mut self, label: &str) {
        self.h.get_by_label(label).click();
        self.h.run_steps(3);
    }

    /// Clicks the one node of `role` labeled `label` with the mouse.
    #[track_caller]
    pub(super) fn click_role(&mut self, role: Role, label: &str) {
        self.h.get_by_role_and_label(role, label).click();
        self.h.run_steps(3);
    }

    /// Clicks the node labeled `label`: with the mouse where it is on
    /// screen, else (in a scrolled form) through AccessKit after scrolling to it.
    #[track_caller]
    pub(super) fn reveal_and_click(&mut self, label: &str) {
        let screen = self.h.ctx.content_rect().shrink(30.0);
        if screen.contains_rect(self.h.get_by_label(label).rect()) {
            self.click(label);
            return;
        }
        self.h.get_by_label(label).scroll_to_me();
        self.h.run_steps(2);
        self.h.get_by_label(label).click_accesskit();
        self.h.run_steps(3);
    }

    /// Opens the menu `menu` unless its item `probe` (a button) is already shown.
    #[track_caller]
    pub(super) fn open_menu(&mut self, menu: &str, probe_role: Role, probe: &str) {
        if !self.has(probe_role, probe) {
            self.click_role(Role::Button, menu);
        }
        assert!(
            self.has(probe_role, probe),
            "menu {menu} did not open (no {probe})"
        );
    }

    /// Closes the menu `menu` if its item `probe` is still shown (a click
    /// inside a menu usually closes it already).
    pub(super) fn close_menu(&mut self, menu: &str, probe_role: Role, probe: &str) {
        if self.has(probe_role, probe) {
            self.click_role(Role::Button, menu);
        }
        assert!(!self.has(probe_role, probe), "menu {menu} did not close");
    }

    /// Clicks the viewer's time axis, where a click does nothing, to close a popup.
    pub(super) fn click_away(&mut self) {
        self.click("Time axis");
    }

    /// No error in the window, and every input widget has a name.
    #[track_caller]
    pub(super) fn check(&mut self, place: &str) {
        let errors = &self.h.state().parts().shell.errors;
        assert!(
            errors.is_empty(),
            "{place}: the app shows errors: {errors:?}"
        );
        let unnamed = self.h.unnamed_widgets();
        if !unnamed.is_empty() {
            let all = self.describe_unnamed();
            let new: Vec<String> = all
                .iter()
                .filter(|w| {
                    self.seen
                        .insert(w.split(" (showing").next().unwrap_or(w).to_string())
                })
                .cloned()
                .collect();
            self.unnamed.push(format!(
                "{place}: {} unnamed ({} listed above){}{}",
                unnamed.len(),
                all.len() - new.len(),
                if new.is_empty() { "" } else { ":\n    " },
                new.join("\n    ")
            ));
        }
        self.places += 1;
    }

    /// The widgets `unnamed_widgets` lists, each with the text left of it on
    /// its row and its value, so that one can tell which widget it is.
    pub(super) fn describe_unnamed(&self) -> Vec<String> {
        let labels: Vec<(egui::Rect, String)> = self
            .h
            .query_all_by_role(Role::Label)
            .filter_map(|n| Some((n.rect(), n.accesskit_node().value()?)))
            .collect();
        self.h
            .query_all_by(|n| {
                let named = n.label().is_some_and(|l| !l.trim().is_empty())
                    || n.data().placeholder().is_some_and(|p| !p.trim().is_empty());
                egui::accessibility::is_input(n.role())
                    && !n.is_hidden()
                    && !n.data().is_read_only()
                    && !named
            })
            .map(|n| {
                let r = n.rect();
                let mut row: Vec<&(egui::Rect, String)> = labels
                    .iter()
                    .filter(|(l, _)| {
                        l.max.x <= r.min.x + 1.0
                            && (l.center().y - r.center().y).abs() < r.height() / 2.0
                    })
                    .collect();
                row.sort_by(|a, b| a.0.min.x.total_cmp(&b.0.min.x));
                let row = row
                    .iter()
                    .map(|(_, t)| t.as_str())
                    .collect::<Vec<_>>()
                    .join(" | ");
                let node = n.accesskit_node();
                let value = node
                    .value()
                    .or_else(|| node.numeric_value().map(|v| v.to_string()))
                    .unwrap_or_default();
                format!(
                    "{:?} right of `{row}` (showing `{value}`, at {:?})",
                    node.role(),
                    [r.min.x.round(), r.min.y.round()]
                )
            })
            .collect()
    }

    /// Notes that `what` does not work, and goes on.
    pub(super) fn defect(&mut self, what: String) {
        eprintln!("defect: {what}");
        self.defects.push(what);
    }

    /// Fails with every defect and every place that failed the accessibility check.
    pub(super) fn finish(self, name: &str) {
        eprintln!(
            "{name}: {} places visited in {:.1} s",
            self.places,
            self.started.elapsed().as_secs_f64()
        );
        assert!(
            self.defects.is_empty() && self.unnamed.is_empty(),
            "{name}: {} defect(s):\n{}\ncheck_accessibility fails at {} of {} places:\n{}",
            self.defects.len(),
            self.defects.join("\n"),
            self.unnamed.len(),
            self.places,
            self.unnamed.join("\n")
        );
        self.h.check_accessibility();
    }
}

/// Trains small MLPs with the CLI, one per learning rate, at the same time.
/// Each gets its own `--out` folder: without it, two `spindle train` started
/// in the same second choose the same run folder.
pub(super) fn cli_runs(eeg: &Path, runs: &Path, lrs: &[&str]) {
    let children: Vec<_> = lrs
        .iter()
        .map(|lr| {
            spindle()
                .args(["train", "--runs"])
                .arg(runs)
                .arg("--out")
                .arg(runs.join(format!("mlp-lr{lr}")))
                .args(["--model", "mlp", "--epochs", "2", "--lr", lr, "--data"])
                .arg(eeg)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
