//! Short "what is this?" explanations of the words the app uses, in a
//! biologist's words, shown on hover next to where the word appears.

use eframe::egui::{self, RichText, Ui};

/// `(term, explanation)` for every term the app explains.
pub const TERMS: &[(&str, &str)] = &[
    (
        "training set",
        "The windows the network learns from: it adjusts its weights to get these right. A score on them says little, because the network has seen them.",
    ),
    (
        "validation set",
        "Windows kept aside while training, from other recordings. After each epoch the network is scored on them; the epoch that does best here is the one kept. Like a practice exam.",
    ),
    (
        "test set",
        "Windows never used to choose anything, scored once at the end. This is the honest estimate of how the model will do on a new recording. Like the final exam.",
    ),
    (
        "overfitting",
        "Memorizing instead of learning: the training loss keeps falling while the validation loss rises. The network has learned details of these particular recordings that do not carry over to new ones.",
    ),
    (
        "regularization",
        "Anything that makes memorizing harder so that the network learns the general pattern: dropout, weight decay, early stopping, more data.",
    ),
    (
        "accuracy",
        "The share of windows whose class the model got right. Compare it with the chance level, not with 0.",
    ),
    (
        "chance level",
        "The accuracy of always guessing the most common class, without looking at the data. A model is only useful if it is clearly above this line.",
    ),
    (
        "confusion matrix",
        "Rows are the true classes, columns what the model said. The diagonal holds the correct answers; a bright cell off the diagonal shows two classes the model mixes up.",
    ),
];

/// The explanation of `term`.
pub fn explain(term: &str) -> Option<&'static str> {
    TERMS.iter().find(|(t, _)| *t == term).map(|(_, e)| *e)
}

/// A row of small "what is …?" links that explain `terms` on hover.
pub fn row(ui: &mut Ui, terms: &[&str]) {
    ui.horizontal_wrapped(|ui| {
        for term in terms {
            if let Some(text) = explain(term) {
                ui.add(
                    egui::Label::new(RichText::new(format!("{term} (?)")).small().weak())
                        .sense(egui::Sense::hover()),
                )
                .on_hover_text(text);
            }
        }
    });
}
