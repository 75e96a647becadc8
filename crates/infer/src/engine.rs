//! The backends behind one small interface: load an ONNX file, list its inputs and outputs, run
//! one float32 input and read float32 outputs.
use std::path::{Path, PathBuf};

use crate::config::{Backend, InferConfig};
use crate::error::InferError;

/// A graph input or output: its name and dims (negative where symbolic).
#[derive(Debug, Clone, PartialEq)]
pub struct Port {
    pub name: String,
    pub dims: Vec<i64>,
}

impl Port {
    pub fn describe(&self) -> String {
        let d: Vec<String> = self
            .dims
            .iter()
            .map(|&d| {
                if d < 0 {
                    "?".to_string()
                } else {
                    d.to_string()
                }
            })
            .collect();
        format!("`{}` [{}]", self.name, d.join(", "))
    }
}

/// One output tensor, copied out of the backend.
#[derive(Debug, Clone)]
pub struct Output {
    pub dims: Vec<usize>,
    pub data: Vec<f32>,
}

pub(crate) enum Engine {
    #[cfg(feature = "ort")]
    Ort(crate::ort_backend::OrtEngine),
    #[cfg(feature = "tract")]
    Tract(crate::tract_backend::TractEngine),
}

/// Cheap checks before a backend sees the file, so the common mistakes get plain messages.
fn precheck(path: &Path, what: &str) -> Result<(), InferError> {
    let meta = std::fs::metadata(path).map_err(|e| InferError::ModelFile {
        path: path.to_path_buf(),
        problem: format!("cannot open it ({e})"),
        fix: format!(
            "run `posbon assets fetch` if it is the shipped {what}, or fix the `file` path in the model description"
        ),
    })?;
    if !meta.is_file() {
        return Err(InferError::ModelFile {
            path: path.to_path_buf(),
            problem: "is not a regular file".into(),
            fix: "point the model description's `file` at an .onnx file".into(),
        });
    }
    // An ONNX file is a protobuf ModelProto; its first field is ir_version (field 1, varint:
    // byte 0x08) in every exporter we know of. Anything else is almost certainly another format.
    let mut head = [0u8; 16];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|e| InferError::ModelFile {
            path: path.to_path_buf(),
            problem: e.to_string(),
            fix: String::new(),
        })?;
        f.read(&mut head).unwrap_or(0)
    };
    let looks_onnx = n >= 2 && head[0] == 0x08;
    if !looks_onnx {
        let found =
            if head.starts_with(b"[net]") || head.starts_with(b"#") || head.starts_with(b"[") {
                "text (a Darknet .cfg or a TOML file?)".to_string()
            } else if n == 0 {
                "an empty file".to_string()
            } else if head.starts_with(b"PK") {
                "a zip archive (a PyTorch .pt checkpoint?)".to_string()
            } else {
                format!("bytes starting {:02x?}", &head[..n.min(8)])
            };
        return Err(InferError::ModelFile {
            path: path.to_path_buf(),
            problem: format!("is not an ONNX model: found {found}"),
            fix: "export the model to ONNX (Darknet models: tools/darknet2onnx.py) and point `file` at the .onnx".into(),
        });
    }
    Ok(())
}

impl Engine {
    pub(crate) fn load(path: &Path, cfg: &InferConfig, what: &str) -> Result<Engine, InferError> {
        precheck(path, what)?;
        match cfg.backend {
            #[cfg(feature = "ort")]
            Backend::Ort => Ok(Engine::Ort(crate::ort_backend::OrtEngine::load(path, cfg)?)),
            #[cfg(feature = "tract")]
            Backend::Tract => Ok(Engine::Tract(crate::tract_backend::TractEngine::load(
                path, cfg,
            )?)),
            #[allow(unreachable_patterns)]
            other => Err(InferError::BackendUnavailable(other)),
        }
    }

    pub(crate) fn inputs(&self) -> &[Port] {
        match self {
            #[cfg(feature = "ort")]
            Engine::Ort(e) => &e.inputs,
            #[cfg(feature = "tract")]
            Engine::Tract(e) => &e.inputs,
        }
    }

    pub(crate) fn outputs(&self) -> &[Port] {
        match self {
            #[cfg(feature = "ort")]
            Engine::Ort(e) => &e.outputs,
            #[cfg(feature = "tract")]
            Engine::Tract(e) => &e.outputs,
        }
    }

    pub(crate) fn path(&self) -> &PathBuf {
        match self {
            #[cfg(feature = "ort")]
            Engine::Ort(e) => &e.path,
            #[cfg(feature = "tract")]
            Engine::Tract(e) => &e.path,
        }
    }

    /// Run with one input tensor (`shape`, row-major `data`); return the named outputs in order.
    pub(crate) fn run(
        &mut self,
        input: &str,
        shape: &[usize],
        data: &[f32],
        outputs: &[&str],
    ) -> Result<Vec<Output>, InferError> {
        let r = match self {
            #[cfg(feature = "ort")]
            Engine::Ort(e) => e.run(input, shape, data, outputs),
            #[cfg(feature = "tract")]
            Engine::Tract(e) => e.run(input, shape, data, outputs),
        };
        r.map_err(|message| InferError::Run {
            path: self.path().clone(),
            shape: shape.to_vec(),
            message,
        })
    }
}
