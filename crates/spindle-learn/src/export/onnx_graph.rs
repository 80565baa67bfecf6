//! A small builder of ONNX graphs: constants, nodes with attributes, and
//! the finished [`ModelProto`] (opset 17, IR version 8).

use super::onnx_proto::{
    AttributeProto, Dimension, DimensionValue, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto,
    TypeProtoTensor, ValueInfoProto, attribute_type, data_type,
};

/// The ONNX operator set the exporter writes.
pub const OPSET: i64 = 17;
/// The IR version that goes with [`OPSET`].
const IR_VERSION: i64 = 8;

/// A node attribute.
#[derive(Debug, Clone)]
pub enum Attr {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f32),
    /// A list of integers.
    Ints(Vec<i64>),
    /// A string.
    Str(String),
}

/// A graph under construction; every value has a unique generated name.
#[derive(Debug, Default)]
pub struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    counter: usize,
}

impl Graph {
    fn fresh(&mut self, hint: &str) -> String {
        self.counter += 1;
        format!("{hint}_{}", self.counter)
    }

    /// A float constant of shape `dims` (row-major `data`); returns its name.
    pub fn constant(&mut self, hint: &str, dims: &[usize], data: Vec<f32>) -> String {
        let name = self.fresh(hint);
        self.initializers.push(TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: data_type::FLOAT,
            float_data: data,
            int64_data: Vec::new(),
            name: name.clone(),
        });
        name
    }

    /// An int64 vector constant (shapes for `Reshape`); returns its name.
    pub fn ints(&mut self, hint: &str, data: &[i64]) -> String {
        let name = self.fresh(hint);
        self.initializers.push(TensorProto {
            dims: vec![data.len() as i64],
            data_type: data_type::INT64,
            float_data: Vec::new(),
            int64_data: data.to_vec(),
            name: name.clone(),
        });
        name
    }

    /// Adds a node with one output; returns the output's name.
    pub fn op(&mut self, op_type: &str, inputs: &[&str], attrs: &[(&str, Attr)]) -> String {
        self.op_n(op_type, inputs, attrs, 1).remove(0)
    }

    /// Adds a node with `outputs` outputs; returns their names.
    pub fn op_n(
        &mut self,
        op_type: &str,
        inputs: &[&str],
        attrs: &[(&str, Attr)],
        outputs: usize,
    ) -> Vec<String> {
        let hint = op_type.to_ascii_lowercase();
        let outs: Vec<String> = (0..outputs).map(|_| self.fresh(&hint)).collect();
        let attribute = attrs
            .iter()
            .map(|(name, a)| {
                let mut p = AttributeProto {
                    name: (*name).to_string(),
                    ..AttributeProto::default()
                };
                match a {
                    Attr::Int(i) => (p.i, p.r#type) = (*i, attribute_type::INT),
                    Attr::Float(f) => (p.f, p.r#type) = (*f, attribute_type::FLOAT),
                    Attr::Ints(v) => (p.ints, p.r#type) = (v.clone(), attribute_type::INTS),
                    Attr::Str(s) => {
                        (p.s, p.r#type) = (s.as_bytes().to_vec(), attribute_type::STRING);
                    }
                }
                p
            })
            .collect();
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| (*s).to_string()).collect(),
            output: outs.clone(),
            name: outs[0].clone(),
            op_type: op_type.to_string(),
            attribute,
            domain: String::new(),
        });
        outs
    }

    /// The model: input `input` (`[batch, dims...]`, float) and output
    /// `output` renamed to `output_name`, with `metadata` as metadata props.
    pub fn finish(
        mut self,
        input: (&str, &[usize]),
        output: (&str, &str, &[usize]),
        metadata: Vec<(String, String)>,
        doc: String,
    ) -> ModelProto {
        let (from, output_name, out_dims) = output;
        self.nodes.push(NodeProto {
            input: vec![from.to_string()],
            output: vec![output_name.to_string()],
            name: "output".into(),
            op_type: "Identity".into(),
            ..NodeProto::default()
        });
        let value = |name: &str, dims: &[usize]| ValueInfoProto {
            name: name.to_string(),
            r#type: Some(TypeProto {
                tensor_type: Some(TypeProtoTensor {
                    elem_type: data_type::FLOAT,
                    shape: Some(TensorShapeProto {
                        dim: std::iter::once(DimensionValue::DimParam("batch".into()))
                            .chain(dims.iter().map(|&d| DimensionValue::DimValue(d as i64)))
                            .map(|v| Dimension { value: Some(v) })
                            .collect(),
                    }),
                }),
            }),
            doc_string: String::new(),
        };
        ModelProto {
            ir_version: IR_VERSION,
            producer_name: "spindle".into(),
            producer_version: env!("CARGO_PKG_VERSION").into(),
            domain: String::new(),
            model_version: 1,
            doc_string: doc,
            graph: Some(GraphProto {
                node: self.nodes,
                name: "spindle".into(),
                initializer: self.initializers,
                doc_string: String::new(),
                input: vec![value(input.0, input.1)],
                output: vec![value(output_name, out_dims)],
            }),
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: OPSET,
            }],
            metadata_props: metadata
                .into_iter()
                .map(|(key, value)| StringStringEntryProto { key, value })
                .collect(),
        }
    }
}
