//! Image plans. PLACEHOLDER until the image repair lands: plans only copies.

use serde::Serialize;

use super::{FixOptions, Step};
use crate::check::check_image;
use crate::facts::ImageFacts;
use crate::spec::Spec;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageOp {
    Unsupported,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImagePlan {
    pub steps: Vec<Step<ImageOp>>,
}

impl ImagePlan {
    pub fn is_copy(&self) -> bool {
        self.steps.is_empty()
    }
    pub fn output_extension(&self) -> Option<&'static str> {
        None
    }
    pub fn steps(&self) -> &[Step<ImageOp>] {
        &self.steps
    }
}

pub fn plan_image(facts: &ImageFacts, spec: &Spec, _options: &FixOptions) -> ImagePlan {
    let report = check_image(facts, spec);
    ImagePlan {
        steps: report
            .violations
            .iter()
            .map(|v| Step {
                op: ImageOp::Unsupported,
                rule: v.rule,
                reason: v.message.clone(),
            })
            .collect(),
    }
}
