using NetlinkFence.Nftables.Expressions;
using NetlinkFence.Nftables;

// Usage: NetlinkFence.TestProbe commit TABLE [NETNS]
//        NetlinkFence.TestProbe many-errors TABLE COUNT [NETNS]
// Exit codes: 0 committed, 3 TransactionRejectedException, 4 the same with IsPermissionDenied, 5 any other exception,
// 6 committed although it should have been refused (many-errors), 2 bad usage.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: commit TABLE [NETNS] | many-errors TABLE COUNT [NETNS]");
    return 2;
}
string mode = args[0], tableName = args[1];
int count = mode == "many-errors" ? int.Parse(args[2]) : 0;
string? netns = args.Length > (mode == "many-errors" ? 3 : 2) ? args[^1] : null;
try
{
    await using var nft = await NftablesConnection.OpenAsync(new() { NetworkNamespace = netns });
    var table = new Table(NftFamily.Inet, tableName);
    var tx = new Transaction().AddTable(table).AddChain(new Chain(NftFamily.Inet, tableName, "c"));
    for (int i = 0; i < count; i++)
        tx.AddRule(new Rule(NftFamily.Inet, tableName, "c", [new ImmediateExpression(Verdict.JumpTo($"missing_{i}"))]));
    var result = await nft.CommitAsync(tx);
    Console.WriteLine($"COMMITTED generation={result.GenerationAfter} messages={result.Messages}");
    return mode == "many-errors" ? 6 : 0;
}
catch (TransactionRejectedException e)
{
    Console.WriteLine($"REJECTED permission={e.IsPermissionDenied} conflict={e.IsGenerationConflict} failures={e.Failures.Count}");
    NetlinkFence.NetlinkFenceException seen = e; // what a caller that catches the library's base type sees
    Console.WriteLine($"BASE errno={seen.ErrnoName} permission={seen.IsPermissionDenied} notfound={seen.IsNotFound} exists={seen.IsExists} conflict={seen.IsGenerationConflict}");
    Console.WriteLine("MESSAGE " + e.Message);
    return e.IsPermissionDenied ? 4 : 3;
}
catch (Exception e)
{
    Console.WriteLine($"EXCEPTION {e.GetType().FullName}");
    Console.WriteLine("MESSAGE " + e.Message);
    return 5;
}
