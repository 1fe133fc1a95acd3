using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace NetlinkFence.Policy;

/// <summary>
/// Passes YAML parsing events through, dropping the second (and later) occurrence of a key in a mapping
/// together with its value, and reporting each as a <c>duplicate-key</c> error. YamlDotNet's representation
/// model would otherwise throw on the first duplicate and hide every other problem in the file; YAML itself
/// forbids duplicate keys, and silently keeping one of them would silently drop a rule.
/// It also bounds nesting to <see cref="MaxDepth"/>: YamlDotNet builds its node tree recursively, and a
/// file of a few hundred thousand '[' would overflow the stack and kill the process instead of failing.
/// And it places an alias of an anchor not set above it (<c>*web</c> without <c>&amp;web</c>) where it is written:
/// YamlDotNet finds those only once the document is read, and reports them at line 1, column 1.
/// </summary>
internal sealed class DuplicateKeyFilter(IParser inner, string fileName, Action<SourceLocation, string, string, string> error) : IParser
{
    private sealed class Frame
    {
        public bool IsMapping { get; private set; }
        public bool ExpectingKey { get; set; }
        public Dictionary<string, Mark> Keys { get; } = new(StringComparer.Ordinal);
        public Scalar? LastKey { get; set; }

        public Frame Reset(bool isMapping)
        {
            IsMapping = isMapping;
            ExpectingKey = true;
            Keys.Clear();
            LastKey = null;
            return this;
        }
    }

    /// <summary>Deepest nesting accepted; a version-1 policy needs 4.</summary>
    public const int MaxDepth = 64;

    private readonly Stack<Frame> _frames = new();

    // Anchors set so far: an alias may only refer back to one of them.
    private readonly HashSet<string> _anchors = new(StringComparer.Ordinal);

    // Frames of ended mappings and sequences, reused: a policy of 1,000 entries opens some 3,000 of them, one
    // at a time per level.
    private readonly Stack<Frame> _spare = new();

    /// <inheritdoc />
    public ParsingEvent? Current => inner.Current;

    /// <summary>Where the last event read started: the best location when YamlDotNet fails without one.</summary>
    public Mark LastStart { get; private set; } = Mark.Empty;

    /// <inheritdoc />
    public bool MoveNext()
    {
        while (inner.MoveNext())
        {
            var current = inner.Current!;
            LastStart = current.Start;
            var top = _frames.Count > 0 ? _frames.Peek() : null;
            if (top is { IsMapping: true, ExpectingKey: true } && current is Scalar key)
            {
                if (top.Keys.TryGetValue(key.Value, out var first))
                {
                    error(new SourceLocation(fileName, (int)key.Start.Line, (int)key.Start.Column),
                        $"key '{key.Value}' appears twice in the same mapping (first at line {first.Line}, column {first.Column})",
                        "keep one: merge the two into the first", "duplicate-key");
                    SkipNode();
                    continue;
                }
                top.Keys[key.Value] = key.Start;
                top.LastKey = key;
            }
            // YamlDotNet's parser emits a key without a value for "  : x" (an empty key); its node builder then
            // fails with an ArgumentException and no location. Say what it is, and where.
            if (top is { IsMapping: true, ExpectingKey: false } && current is MappingEnd)
            {
                var dangling = top.LastKey;
                throw new YamlException(dangling?.Start ?? current.Start, current.End,
                    dangling is { Value.Length: 0 } ? "a key is missing before ':'" : $"key '{dangling?.Value}' has no value");
            }
            if (current is NodeEvent { Anchor.IsEmpty: false } anchored)
                _anchors.Add(anchored.Anchor.Value);
            else if (current is AnchorAlias alias && !_anchors.Contains(alias.Value.Value))
                throw new UndefinedAliasException(current.Start, current.End, alias.Value.Value);
            if (current is MappingStart or SequenceStart && _frames.Count >= MaxDepth)
                throw new TooDeepException(current.Start, current.End, $"the policy nests deeper than {MaxDepth} levels");
            switch (current)
            {
                case MappingStart:
                    _frames.Push(NewFrame(isMapping: true));
                    break;
                case SequenceStart:
                    _frames.Push(NewFrame(isMapping: false));
                    break;
                case MappingEnd or SequenceEnd:
                    _spare.Push(_frames.Pop());
                    NodeDone();
                    break;
                case Scalar or AnchorAlias:
                    NodeDone();
                    break;
            }
            return true;
        }
        return false;
    }

    private Frame NewFrame(bool isMapping) => (_spare.TryPop(out var frame) ? frame : new Frame()).Reset(isMapping);

    /// <summary>A key or a value was completed: in a mapping, keys and values alternate.</summary>
    private void NodeDone()
    {
        if (_frames.Count > 0 && _frames.Peek() is { IsMapping: true } mapping)
            mapping.ExpectingKey = !mapping.ExpectingKey;
    }

    /// <summary>Skips the value that follows a dropped key.</summary>
    private void SkipNode()
    {
        int depth = 0;
        while (inner.MoveNext())
        {
            switch (inner.Current)
            {
                case MappingStart or SequenceStart:
                    depth++;
                    if (_frames.Count + depth > MaxDepth)
                        throw new TooDeepException(inner.Current.Start, inner.Current.End, $"the policy nests deeper than {MaxDepth} levels");
                    break;
                case MappingEnd or SequenceEnd:
                    depth--;
                    break;
            }
            if (depth == 0)
                return;
        }
    }
}

/// <summary>Nesting beyond <see cref="DuplicateKeyFilter.MaxDepth"/>.</summary>
internal sealed class TooDeepException(Mark start, Mark end, string message) : YamlException(start, end, message);

/// <summary>An alias (<c>*name</c>) of no anchor set before it.</summary>
internal sealed class UndefinedAliasException(Mark start, Mark end, string name)
    : YamlException(start, end, $"alias '*{name}' refers to no anchor: no value above it is marked '&{name}'")
{
    public string Name => name;
}
