//! Video plans. PLACEHOLDER until the image repair lands: plans only copies.

use serde::Serialize;

use super::{FixOptions, Step};
use crate::check::check_video;
use crate::facts::VideoFacts;
use crate::spec::Spec;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoOp {
    Unsupported,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoPlan {
    pub steps: Vec<Step<VideoOp>>,
}

impl VideoPlan {
    pub fn is_copy(&self) -> bool {
        self.steps.is_empty()
    }
    pub fn output_extension(&self) -> Option<&'static str> {
        None
    }
    pub fn steps(&self) -> &[Step<VideoOp>] {
        &self.steps
    }
}

pub fn plan_video(facts: &VideoFacts, spec: &Spec, _options: &FixOptions) -> VideoPlan {
    let report = check_video(facts, spec);
    VideoPlan {
        steps: report
            .violations
            .iter()
            .map(|v| Step {
                op: VideoOp::Unsupported,
                rule: v.rule,
                reason: v.message.clone(),
            })
            .collect(),
    }
}
