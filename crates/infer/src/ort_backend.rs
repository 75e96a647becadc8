//! ONNX Runtime through `ort` (load-dynamic: the shared library is loaded at run time).
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;

use crate::config::InferConfig;
use crate::engine::{Output, Port};
use crate::error::InferError;

/// ONNX Runtime allows one environment per process, and the library can be loaded once.
static ENV: Mutex<Option<(PathBuf, Environment)>> = Mutex::new(None);

fn environment(lib: &Path) -> Result<Environment, InferError> {
    let mut g = ENV.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((loaded, env)) = g.as_ref() {
        if loaded != lib {
            tracing::warn!(
                loaded = %loaded.display(),
                requested = %lib.display(),
                "ONNX Runtime is already loaded in this process; keeping the first library"
            );
        }
        return Ok(env.clone());
    }
    if !lib.is_file() {
        return Err(InferError::Runtime {
            path: lib.to_path_buf(),
            message: "no such file".into(),
        });
    }
    let env = ort::init_from(lib)
        .map_err(|e| InferError::Runtime {
            path: lib.to_path_buf(),
            message: e.to_string(),
        })?
        .with_name("posbon")
        .build()
        .map_err(|e| InferError::Runtime {
            path: lib.to_path_buf(),
            message: e.to_string(),
        })?;
    tracing::info!(lib = %lib.display(), "ONNX Runtime loaded");
    *g = Some((lib.to_path_buf(), env.clone()));
    Ok(env)
}

pub(crate) struct OrtEngine {
    pub(crate) path: PathBuf,
    pub(crate) inputs: Vec<Port>,
    pub(crate) outputs: Vec<Port>,
    session: Session,
}

fn ports(outlets: &[ort::value::Outlet]) -> Vec<Port> {
    outlets
        .iter()
        .map(|o| Port {
            name: o.name().to_string(),
            dims: o
                .dtype()
                .tensor_shape()
                .map(|s| s.to_vec())
                .unwrap_or_default(),
        })
        .collect()
}

impl OrtEngine {
    pub(crate) fn load(path: &Path, cfg: &InferConfig) -> Result<OrtEngine, InferError> {
        let env = environment(&cfg.ort_lib_path())?;
        let rt = |e: String| InferError::Runtime {
            path: cfg.ort_lib_path(),
            message: e,
        };
        let session = Session::builder(&env)
            .map_err(|e| rt(e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| rt(e.to_string()))?
            .with_intra_threads(cfg.threads.max(1))
            .map_err(|e| rt(e.to_string()))?
            .with_inter_threads(1)
            .map_err(|e| rt(e.to_string()))?
            .commit_from_file(path)
            .map_err(|e| InferError::ModelFile {
                path: path.to_path_buf(),
                problem: format!("ONNX Runtime cannot load it: {e}"),
                fix: "check that it is a complete, valid ONNX model (re-export or re-fetch it)"
                    .into(),
            })?;
        Ok(OrtEngine {
            path: path.to_path_buf(),
            inputs: ports(session.inputs()),
            outputs: ports(session.outputs()),
            session,
        })
    }

    pub(crate) fn run(
        &mut self,
        input: &str,
        shape: &[usize],
        data: &[f32],
        outputs: &[&str],
    ) -> Result<Vec<Output>, String> {
        let t = TensorRef::from_array_view((shape.to_vec(), data)).map_err(|e| e.to_string())?;
        let outs = self
            .session
            .run(ort::inputs![input => t])
            .map_err(|e| e.to_string())?;
        outputs
            .iter()
            .map(|name| {
                let v = outs
                    .get(*name)
                    .ok_or_else(|| format!("the model produced no output `{name}`"))?;
                let (s, d) = v
                    .try_extract_tensor::<f32>()
                    .map_err(|e| format!("output `{name}`: {e}"))?;
                Ok(Output {
                    dims: s.iter().map(|&x| x.max(0) as usize).collect(),
                    data: d.to_vec(),
                })
            })
            .collect()
    }
}
