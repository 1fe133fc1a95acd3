using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NetlinkFence.Benchmarks;

/// <summary>Mean divided by the number of rules or set elements (the <c>Rules</c> / <c>Elements</c> parameter).</summary>
internal sealed class PerItemColumn : IColumn
{
    public string Id => "PerItem";
    public string ColumnName => "ns/item";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Mean in nanoseconds divided by the Rules or Elements parameter";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        var count = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name is "Rules" or "Elements");
        if (mean is null || count is null)
            return "-";
        return (mean.Value / Convert.ToDouble(count.Value, CultureInfo.InvariantCulture)).ToString("N1", CultureInfo.InvariantCulture);
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public override string ToString() => ColumnName;
}

/// <summary>Mean of this case divided by the mean of method <c>reference</c> with the same parameters (e.g. nft -f).</summary>
internal sealed class RatioToMethodColumn(string reference, string columnName) : IColumn
{
    public string Id => "RatioTo" + reference;
    public string ColumnName => columnName;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => $"Mean / mean of {reference} with the same parameters";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        var other = summary.BenchmarksCases.FirstOrDefault(c =>
            c.Descriptor.WorkloadMethod.Name == reference
            && c.Descriptor.Type == benchmarkCase.Descriptor.Type
            && c.Parameters.FolderInfo == benchmarkCase.Parameters.FolderInfo);
        var otherMean = other is null ? null : summary[other]?.ResultStatistics?.Mean;
        if (mean is null || otherMean is null || otherMean == 0)
            return "-";
        return (mean.Value / otherMean.Value).ToString("0.000", CultureInfo.InvariantCulture);
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) =>
        summary.BenchmarksCases.Any(c => c.Descriptor.WorkloadMethod.Name == reference);
    public override string ToString() => ColumnName;
}
