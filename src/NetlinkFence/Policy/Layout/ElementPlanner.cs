namespace NetlinkFence.Policy.Layout;

/// <summary>
/// Turns overlapping grants into disjoint <c>addresses . protocol . ports</c> boxes: the kernel's concatenated
/// interval set (pipapo) refuses an element that partially overlaps another with EEXIST, so a /24 inside an
/// allowed /8 must become three address ranges. Every point of a box has the same contributors; adjacent regions
/// with the same contributors are joined, so the boxes depend only on which grants cover which point (a model
/// rebuilt from a kernel dump plans the same boxes).
/// </summary>
internal static class ElementPlanner
{
    /// <summary>
    /// Groups grants into clusters whose address ranges overlap (transitively), in address order; boxes never
    /// cross a cluster, so a change re-plans only the clusters it overlaps. Touching ranges stay apart: joining
    /// them would make 10,000 consecutive addresses one cluster that every change re-plans.
    /// </summary>
    public static List<List<PlacedGrant>> Clusters(IEnumerable<PlacedGrant> grants)
    {
        var clusters = new List<List<PlacedGrant>>();
        UInt128 end = 0;
        foreach (var grant in grants.OrderBy(g => g.First))
        {
            if (clusters.Count > 0 && grant.First <= end)
            {
                clusters[^1].Add(grant);
                if (grant.Last > end)
                    end = grant.Last;
            }
            else
            {
                clusters.Add([grant]);
                end = grant.Last;
            }
        }
        return clusters;
    }

    /// <summary>The boxes of one cluster, in key order.</summary>
    public static List<AllowBox> Plan(IReadOnlyList<PlacedGrant> cluster)
    {
        if (cluster.Count == 1)
        {
            // The common case (an entry's own destination, overlapping nothing): one box, no sweep.
            var g = cluster[0];
            return [new AllowBox(g.First, g.Last, g.Protocol, g.Ports.First, g.Ports.Last, [g.Contributor])];
        }
        var boxes = new List<AllowBox>();
        foreach (var protocol in cluster.Select(g => g.Protocol).Distinct())
            PlanProtocol(cluster.Where(g => g.Protocol == protocol).OrderBy(g => g.First).ToList(), protocol, boxes);
        boxes.Sort();
        return boxes;
    }

    /// <summary>
    /// Sweeps the elementary address intervals (between every grant start and every first address past a grant's
    /// end); in each, the maximal port runs with the same contributors; a run that continues unchanged into the next
    /// interval extends its box, so each box is maximal in addresses for its ports and contributors.
    /// </summary>
    private static void PlanProtocol(List<PlacedGrant> byStart, byte protocol, List<AllowBox> boxes)
    {
        var bounds = new SortedSet<UInt128>();
        foreach (var g in byStart)
        {
            bounds.Add(g.First);
            if (g.Last != UInt128.MaxValue)
                bounds.Add(g.Last + 1);
        }
        var points = bounds.ToList();
        var active = new List<PlacedGrant>();
        var open = new List<(PortRun Run, UInt128 First, UInt128 Last)>();
        int next = 0;
        for (int i = 0; i < points.Count; i++)
        {
            UInt128 at = points[i];
            UInt128 upTo = i + 1 < points.Count ? points[i + 1] - 1 : UInt128.MaxValue;
            active.RemoveAll(g => g.Last < at);
            while (next < byStart.Count && byStart[next].First <= at)
                active.Add(byStart[next++]);
            var runs = PortRuns(active, protocol);
            var stillOpen = new List<(PortRun Run, UInt128 First, UInt128 Last)>(runs.Count);
            foreach (var run in runs)
            {
                int same = open.FindIndex(o => o.Last + 1 == at && SameRun(o.Run, run));
                if (same >= 0)
                {
                    stillOpen.Add((run, open[same].First, upTo));
                    open.RemoveAt(same);
                }
                else
                {
                    stillOpen.Add((run, at, upTo));
                }
            }
            foreach (var (run, first, last) in open)
                boxes.Add(new AllowBox(first, last, protocol, run.First, run.Last, run.Contributors));
            open = stillOpen;
        }
        // Past the last bound nothing is active; only a range ending at the largest address leaves boxes open.
        foreach (var (run, first, last) in open)
            boxes.Add(new AllowBox(first, last, protocol, run.First, run.Last, run.Contributors));
    }

    private readonly record struct PortRun(byte Protocol, ushort First, ushort Last, Contributor[] Contributors);

    private static bool SameRun(PortRun a, PortRun b) =>
        a.First == b.First && a.Last == b.Last && a.Contributors.AsSpan().SequenceEqual(b.Contributors);

    /// <summary>The maximal port runs with the same contributors, for the grants covering one address interval.</summary>
    private static List<PortRun> PortRuns(List<PlacedGrant> grants, byte protocol)
    {
        var runs = new List<PortRun>();
        var starts = new SortedSet<int>();
        foreach (var g in grants)
        {
            starts.Add(g.Ports.First);
            starts.Add(g.Ports.Last + 1);
        }
        var points = starts.ToList();
        for (int i = 0; i + 1 < points.Count; i++)
        {
            int first = points[i], lastPort = points[i + 1] - 1;
            var contributors = grants.Where(g => g.Ports.First <= first && g.Ports.Last >= first)
                .Select(g => g.Contributor).Distinct().Order().ToArray();
            if (contributors.Length == 0)
                continue;
            if (runs.Count > 0 && runs[^1].Last + 1 == first
                && runs[^1].Contributors.AsSpan().SequenceEqual(contributors))
                runs[^1] = runs[^1] with { Last = (ushort)lastPort };
            else
                runs.Add(new PortRun(protocol, (ushort)first, (ushort)lastPort, contributors));
        }
        return runs;
    }
}
