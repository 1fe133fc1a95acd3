using System.Collections;

namespace NetlinkFence.Policy;

/// <summary>
/// A read-only list built on first use. The explanation lines of a compiled set are read only by <c>plan</c>; building
/// them for 10,000 entries on every apply cost as much as planning the set's elements.
/// </summary>
internal sealed class LazyList<T>(Func<List<T>> build) : IReadOnlyList<T>
{
    private readonly Lazy<List<T>> _items = new(build, LazyThreadSafetyMode.ExecutionAndPublication);

    public T this[int index] => _items.Value[index];

    public int Count => _items.Value.Count;

    public IEnumerator<T> GetEnumerator() => _items.Value.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
