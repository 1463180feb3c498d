using System.Buffers.Binary;
using System.Text;
using MultiLevelHashing.Runtime;

namespace MultiLevelHashing.Model.Onnx;

/// <summary>A float tensor stored in an ONNX graph (an initializer or a Constant node's value).</summary>
/// <param name="Name">Name the graph uses for it.</param>
/// <param name="Shape">Dimensions, outermost first.</param>
/// <param name="Data">Values in row-major order.</param>
public sealed record OnnxTensor(string Name, long[] Shape, float[] Data);

/// <summary>One node of an ONNX graph: operator, inputs, outputs and its integer/float attributes.</summary>
public sealed record OnnxNode(string Name, string OpType, string[] Inputs, string[] Outputs,
    IReadOnlyDictionary<string, long[]> IntAttributes, IReadOnlyDictionary<string, float[]> FloatAttributes);

/// <summary>The parts of an ONNX model that weight import needs: nodes in graph order and float tensors by name.</summary>
public sealed record OnnxGraph(IReadOnlyList<OnnxNode> Nodes, IReadOnlyDictionary<string, OnnxTensor> Tensors,
    IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);

/// <summary>
/// A minimal protobuf reader for ONNX <c>ModelProto</c> files: enough to list the graph's nodes and read its
/// float initializers (and the tensor values of Constant nodes). Used to import the ImageNet ResNet18 weights
/// of the backbone (lib/MultiLevelHashing/README.md section 2.1) without an ONNX runtime. External data and non-float tensors are refused.
/// </summary>
public static class OnnxModelReader
{
    private const int FloatDataType = 1;

    /// <summary>Reads <paramref name="path"/>; a missing or malformed file gives a <see cref="UserInputException"/> naming it.</summary>
    public static OnnxGraph Read(string path)
    {
        if (!File.Exists(path)) throw UserInputException.InFile(path, "ONNX model not found");
        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            return Parse(bytes);
        }
        catch (FormatException e)
        {
            throw UserInputException.InFile(path, $"not a readable ONNX model ({e.Message})");
        }
    }

    /// <summary>Parses ONNX model bytes (ModelProto).</summary>
    public static OnnxGraph Parse(ReadOnlySpan<byte> model)
    {
        ReadOnlySpan<byte> graph = default;
        bool found = false;
        var r = new ProtoReader(model);
        while (r.Next(out int field, out int wire))
        {
            if (field == 7 && wire == 2) { graph = r.Bytes(); found = true; }
            else r.Skip(wire);
        }
        if (!found) throw new FormatException("the model has no graph (field 7)");
        return ParseGraph(graph);
    }

    private static OnnxGraph ParseGraph(ReadOnlySpan<byte> g)
    {
        var nodes = new List<OnnxNode>();
        var tensors = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var inputs = new List<string>();
        var outputs = new List<string>();
        var r = new ProtoReader(g);
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 2:
                    var node = ParseNode(r.Bytes(), out OnnxTensor? constant);
                    nodes.Add(node);
                    if (constant is not null) tensors[constant.Name] = constant;
                    break;
                case 5 when wire == 2:
                    var t = ParseTensor(r.Bytes(), nameOverride: null);
                    if (t is not null) tensors[t.Name] = t;
                    break;
                case 11 when wire == 2: inputs.Add(ValueInfoName(r.Bytes())); break;
                case 12 when wire == 2: outputs.Add(ValueInfoName(r.Bytes())); break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxGraph(nodes, tensors, inputs, outputs);
    }

    private static string ValueInfoName(ReadOnlySpan<byte> v)
    {
        var r = new ProtoReader(v);
        while (r.Next(out int field, out int wire))
        {
            if (field == 1 && wire == 2) return r.String();
            r.Skip(wire);
        }
        return "";
    }

    private static OnnxNode ParseNode(ReadOnlySpan<byte> n, out OnnxTensor? constant)
    {
        constant = null;
        var inputs = new List<string>();
        var outputs = new List<string>();
        string name = "", op = "";
        var ints = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var floats = new Dictionary<string, float[]>(StringComparer.Ordinal);
        OnnxTensor? valueTensor = null;
        var r = new ProtoReader(n);
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 2: inputs.Add(r.String()); break;
                case 2 when wire == 2: outputs.Add(r.String()); break;
                case 3 when wire == 2: name = r.String(); break;
                case 4 when wire == 2: op = r.String(); break;
                case 5 when wire == 2:
                    ParseAttribute(r.Bytes(), ints, floats, ref valueTensor);
                    break;
                default: r.Skip(wire); break;
            }
        }
        if (op == "Constant" && valueTensor is not null && outputs.Count == 1)
            constant = valueTensor with { Name = outputs[0] };
        return new OnnxNode(name, op, inputs.ToArray(), outputs.ToArray(), ints, floats);
    }

    private static void ParseAttribute(ReadOnlySpan<byte> a, Dictionary<string, long[]> ints,
        Dictionary<string, float[]> floats, ref OnnxTensor? tensor)
    {
        string name = "";
        var iv = new List<long>();
        var fv = new List<float>();
        OnnxTensor? t = null;
        var r = new ProtoReader(a);
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 2: name = r.String(); break;
                case 2 when wire == 5: fv.Add(r.Fixed32Float()); break;
                case 3 when wire == 0: iv.Add((long)r.Varint()); break;
                case 5 when wire == 2: t = ParseTensor(r.Bytes(), nameOverride: ""); break;
                case 7 when wire == 2: { var p = new ProtoReader(r.Bytes()); while (!p.End) fv.Add(p.Fixed32Float()); break; }
                case 7 when wire == 5: fv.Add(r.Fixed32Float()); break;
                case 8 when wire == 2: { var p = new ProtoReader(r.Bytes()); while (!p.End) iv.Add((long)p.Varint()); break; }
                case 8 when wire == 0: iv.Add((long)r.Varint()); break;
                default: r.Skip(wire); break;
            }
        }
        if (iv.Count > 0) ints[name] = iv.ToArray();
        if (fv.Count > 0) floats[name] = fv.ToArray();
        if (t is not null && name == "value") tensor = t;
    }

    /// <summary>Returns null for non-float tensors (shape constants and the like), which import does not need.</summary>
    private static OnnxTensor? ParseTensor(ReadOnlySpan<byte> t, string? nameOverride)
    {
        var dims = new List<long>();
        int dataType = 0;
        string name = "";
        ReadOnlySpan<byte> raw = default;
        bool hasRaw = false;
        var floatData = new List<float>();
        bool external = false;
        var r = new ProtoReader(t);
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 2: { var p = new ProtoReader(r.Bytes()); while (!p.End) dims.Add((long)p.Varint()); break; }
                case 1 when wire == 0: dims.Add((long)r.Varint()); break;
                case 2 when wire == 0: dataType = (int)r.Varint(); break;
                case 4 when wire == 2: { var p = new ProtoReader(r.Bytes()); while (!p.End) floatData.Add(p.Fixed32Float()); break; }
                case 4 when wire == 5: floatData.Add(r.Fixed32Float()); break;
                case 8 when wire == 2: name = r.String(); break;
                case 9 when wire == 2: raw = r.Bytes(); hasRaw = true; break;
                case 13 when wire == 2: external = true; r.Skip(wire); break;
                default: r.Skip(wire); break;
            }
        }
        if (dataType != FloatDataType) return null;
        if (external) throw new FormatException($"tensor '{name}' keeps its data in an external file, which is not supported");
        long count = 1;
        foreach (long d in dims) count *= d;
        float[] data;
        if (hasRaw)
        {
            if (raw.Length != count * 4) throw new FormatException($"tensor '{name}' has {raw.Length} raw bytes for {count} floats");
            data = new float[count];
            for (int i = 0; i < count; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(i * 4, 4));
        }
        else
        {
            if (floatData.Count != count) throw new FormatException($"tensor '{name}' has {floatData.Count} floats for shape [{string.Join(",", dims)}]");
            data = floatData.ToArray();
        }
        return new OnnxTensor(nameOverride ?? name, dims.ToArray(), data);
    }

    /// <summary>Protobuf wire-format cursor (varint, fixed32, fixed64, length-delimited).</summary>
    private ref struct ProtoReader(ReadOnlySpan<byte> buffer)
    {
        private readonly ReadOnlySpan<byte> _buffer = buffer;
        private int _pos;

        public readonly bool End => _pos >= _buffer.Length;

        public bool Next(out int field, out int wire)
        {
            field = 0; wire = 0;
            if (End) return false;
            ulong key = Varint();
            field = (int)(key >> 3);
            wire = (int)(key & 7);
            if (field == 0) throw new FormatException($"field number 0 at byte {_pos}");
            return true;
        }

        public ulong Varint()
        {
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (_pos >= _buffer.Length) throw new FormatException("truncated varint");
                byte b = _buffer[_pos++];
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return result;
            }
            throw new FormatException("varint longer than 10 bytes");
        }

        public float Fixed32Float()
        {
            if (_pos + 4 > _buffer.Length) throw new FormatException("truncated fixed32");
            float v = BinaryPrimitives.ReadSingleLittleEndian(_buffer.Slice(_pos, 4));
            _pos += 4;
            return v;
        }

        public ReadOnlySpan<byte> Bytes()
        {
            ulong len = Varint();
            if (len > (ulong)(_buffer.Length - _pos)) throw new FormatException($"length {len} at byte {_pos} runs past the end");
            var s = _buffer.Slice(_pos, (int)len);
            _pos += (int)len;
            return s;
        }

        public string String() => Encoding.UTF8.GetString(Bytes());

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: Advance(8); break;
                case 2: Bytes(); break;
                case 5: Advance(4); break;
                default: throw new FormatException($"unsupported wire type {wire} at byte {_pos}");
            }
        }

        private void Advance(int n)
        {
            if (_pos + n > _buffer.Length) throw new FormatException("truncated field");
            _pos += n;
        }
    }
}
