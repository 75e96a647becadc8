//! tract (pure Rust). Plans are optimised for concrete input shapes, so one plan is kept per
//! input shape seen (batch size, or image size for the face detector).
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

use crate::config::InferConfig;
use crate::engine::{Output, Port};
use crate::error::InferError;

type Plan = Arc<TypedRunnableModel>;

/// At most this many optimised plans are kept per model.
const PLANS: usize = 8;

pub(crate) struct TractEngine {
    pub(crate) path: PathBuf,
    pub(crate) inputs: Vec<Port>,
    pub(crate) outputs: Vec<Port>,
    model: InferenceModel,
    plans: Vec<(Vec<usize>, Plan)>,
}

static THREADS: Once = Once::new();

fn set_threads(n: usize) {
    THREADS.call_once(|| {
        if n > 1 {
            tract_linalg::multithread::set_default_executor(
                tract_linalg::multithread::Executor::multithread(n),
            );
        }
    });
}

fn dims_of(fact: &InferenceFact) -> Vec<i64> {
    fact.shape
        .dims()
        .map(|d| d.concretize().and_then(|t| t.to_i64().ok()).unwrap_or(-1))
        .collect()
}

impl TractEngine {
    pub(crate) fn load(path: &Path, cfg: &InferConfig) -> Result<TractEngine, InferError> {
        set_threads(cfg.threads);
        let bad = |e: TractError| InferError::ModelFile {
            path: path.to_path_buf(),
            problem: format!("tract cannot load it: {e:#}"),
            fix: "check that it is a complete, valid ONNX model, or use the `ort` backend".into(),
        };
        let model = tract_onnx::onnx().model_for_path(path).map_err(bad)?;
        let mut inputs = Vec::new();
        for (i, o) in model.input_outlets().map_err(bad)?.iter().enumerate() {
            inputs.push(Port {
                name: model.node(o.node).name.clone(),
                dims: dims_of(model.input_fact(i).map_err(bad)?),
            });
        }
        let mut outputs = Vec::new();
        for (i, o) in model.output_outlets().map_err(bad)?.iter().enumerate() {
            let name = model
                .outlet_label(*o)
                .map(str::to_string)
                .unwrap_or_else(|| model.node(o.node).name.clone());
            outputs.push(Port {
                name,
                dims: dims_of(model.output_fact(i).map_err(bad)?),
            });
        }
        Ok(TractEngine {
            path: path.to_path_buf(),
            inputs,
            outputs,
            model,
            plans: Vec::new(),
        })
    }

    fn plan(&mut self, shape: &[usize]) -> Result<Plan, String> {
        if let Some((_, p)) = self.plans.iter().find(|(s, _)| s == shape) {
            return Ok(p.clone());
        }
        let plan = self
            .model
            .clone()
            .with_input_fact(0, f32::fact(shape).into())
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| format!("tract could not plan the model for input {shape:?}: {e:#}"))?;
        if self.plans.len() >= PLANS {
            self.plans.remove(0);
        }
        self.plans.push((shape.to_vec(), plan.clone()));
        Ok(plan)
    }

    pub(crate) fn run(
        &mut self,
        input: &str,
        shape: &[usize],
        data: &[f32],
        outputs: &[&str],
    ) -> Result<Vec<Output>, String> {
        if self.inputs.len() != 1 || self.inputs[0].name != input {
            return Err(format!(
                "the tract backend runs single-input models; asked for `{input}`"
            ));
        }
        let idx: Vec<usize> = outputs
            .iter()
            .map(|n| {
                self.outputs
                    .iter()
                    .position(|p| p.name == *n)
                    .ok_or_else(|| format!("the model has no output `{n}`"))
            })
            .collect::<Result<_, _>>()?;
        let plan = self.plan(shape)?;
        let t = Tensor::from_shape(shape, data).map_err(|e| format!("{e:#}"))?;
        let res = plan.run(tvec!(t.into())).map_err(|e| format!("{e:#}"))?;
        idx.into_iter()
            .map(|i| {
                let v = res[i]
                    .to_plain_array_view::<f32>()
                    .map_err(|e| format!("{e:#}"))?;
                let dims = v.shape().to_vec();
                let data = match v.as_slice() {
                    Some(s) => s.to_vec(),
                    None => v.iter().copied().collect(),
                };
                Ok(Output { dims, data })
            })
            .collect()
    }
}
