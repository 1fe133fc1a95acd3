using NetlinkFence.Interop.Uapi;
using NetlinkFence.Interop;
using NetlinkFence.Netlink;
using NetlinkFence.Nftables.Codecs;

namespace NetlinkFence.Nftables.Monitoring;

/// <summary>
/// Turns nf_tables notifications into <see cref="NftablesChange"/>s and gives each the generation of its commit.
/// </summary>
/// <remarks>
/// nf_tables_commit() bumps the generation, then sends one notification per changed object (each nfgenmsg.res_id
/// carrying the new generation's low 16 bits), then NFT_MSG_NEWGEN with the full id and the committer's pid and
/// name. So changes are held until their NEWGEN arrives and released with it, NEWGEN last as the commit boundary.
/// Held changes are released without a generation when a loss is reported (their NEWGEN may be what was lost) or
/// when a notification of another generation arrives first.
/// </remarks>
internal sealed class ChangeDecoder : INetlinkStreamConsumer
{
    private readonly List<NftablesChange> _held = [];
    private readonly Queue<NftablesChange> _ready = new();
    private ushort _heldResourceId;

    public bool TryTake(out NftablesChange change) => _ready.TryDequeue(out change!);

    public void OnOverrun(int overruns)
    {
        Release(null);
        _ready.Enqueue(new NftablesChange(NftablesChangeKind.Lost, 0, 0, 0) { LostCount = overruns });
    }

    public void OnDatagram(ReadOnlySpan<byte> datagram)
    {
        var messages = new NetlinkMessageReader(datagram);
        try
        {
            while (messages.TryRead(out var message))
                OnMessage(message);
        }
        catch (NetlinkDecodeException e)
        {
            // A lying nlmsg_len: the rest of the datagram cannot be split into messages.
            Release(null);
            _ready.Enqueue(new NftablesChange(NftablesChangeKind.Unknown, 0, 0, 0)
            {
                RawPayload = datagram[messages.Offset..].ToArray(),
                Error = e.Message,
            });
        }
    }

    private void OnMessage(in NetlinkMessage message)
    {
        if (message.Type < (ushort)NetlinkMessageType.MIN_TYPE)
            return; // NOOP/DONE/ERROR carry no change
        if (message.Payload.Length < NetlinkAlignment.NfgenHeaderSize)
        {
            Release(null);
            _ready.Enqueue(Unknown(message, 0, $"{message.Payload.Length} payload bytes, too short for nfgenmsg"));
            return;
        }
        var family = (NftFamily)message.Family;
        if (message.Subsystem == NfnetlinkSubsystem.NFTABLES && message.SubsystemMessage == (byte)NftMessageType.NEWGEN)
        {
            OnNewGeneration(message, family);
            return;
        }
        NftablesChange change;
        try
        {
            change = Decode(message, family);
        }
        catch (Exception e) when (e is NetlinkFenceException or ArgumentException or InvalidOperationException)
        {
            change = Unknown(message, family, e.Message);
        }
        if (_held.Count > 0 && message.ResourceId != _heldResourceId)
            Release(null); // a commit whose NEWGEN never came
        _heldResourceId = message.ResourceId;
        _held.Add(change);
    }

    private static NftablesChange Decode(in NetlinkMessage message, NftFamily family)
    {
        if (message.Subsystem != NfnetlinkSubsystem.NFTABLES)
            return Unknown(message, family, null);
        uint port = message.PortId;
        switch ((NftMessageType)message.SubsystemMessage)
        {
            case NftMessageType.NEWTABLE or NftMessageType.DELTABLE:
                var table = TableCodec.Decode(message);
                return new(Kind(message, NftablesChangeKind.TableAdded, NftablesChangeKind.TableDeleted), family, port, message.Type)
                {
                    Table = table,
                    TableName = table.Name,
                };
            case NftMessageType.NEWCHAIN or NftMessageType.DELCHAIN:
                var chain = ChainCodec.Decode(message);
                return new(Kind(message, NftablesChangeKind.ChainAdded, NftablesChangeKind.ChainDeleted), family, port, message.Type)
                {
                    Chain = chain,
                    TableName = chain.Table,
                };
            case NftMessageType.NEWRULE or NftMessageType.DELRULE:
                var rule = RuleCodec.Decode(message);
                return new(Kind(message, NftablesChangeKind.RuleAdded, NftablesChangeKind.RuleDeleted), family, port, message.Type)
                {
                    Rule = rule,
                    TableName = rule.Table,
                };
            case NftMessageType.NEWSET or NftMessageType.DELSET:
                return DecodeSet(message, family);
            case NftMessageType.NEWSETELEM or NftMessageType.DELSETELEM:
                return DecodeElements(message, family);
            default:
                return Unknown(message, family, null);
        }
    }

    private static NftablesChangeKind Kind(in NetlinkMessage message, NftablesChangeKind added, NftablesChangeKind deleted) =>
        (NftMessageType)message.SubsystemMessage is NftMessageType.NEWTABLE or NftMessageType.NEWCHAIN
            or NftMessageType.NEWRULE or NftMessageType.NEWSET ? added : deleted;

    private static NftablesChange DecodeSet(in NetlinkMessage message, NftFamily family)
    {
        // Since Linux 6.x, NFT_MSG_DELSET carries only the set's identity (table, name, handle): no key to build an NftSet from.
        string? table = null, name = null;
        bool hasKey = false;
        var attributes = message.Attributes;
        while (attributes.TryRead(out var a))
        {
            switch ((NftSetAttribute)a.Type)
            {
                case NftSetAttribute.TABLE: table = a.String(); break;
                case NftSetAttribute.NAME: name = a.String(); break;
                case NftSetAttribute.KEY_TYPE: hasKey = true; break;
            }
        }
        bool added = message.SubsystemMessage == (byte)NftMessageType.NEWSET;
        return new(added ? NftablesChangeKind.SetAdded : NftablesChangeKind.SetDeleted, family, message.PortId, message.Type)
        {
            Set = added || hasKey ? SetCodec.Decode(message) : null,
            TableName = table ?? throw new NetlinkDecodeException("set notification without NFTA_SET_TABLE"),
            SetName = name ?? throw new NetlinkDecodeException("set notification without NFTA_SET_NAME"),
        };
    }

    private static NftablesChange DecodeElements(in NetlinkMessage message, NftFamily family)
    {
        string? table = null, set = null;
        var attributes = message.Attributes;
        while (attributes.TryRead(out var a))
        {
            if (a.Type == (ushort)NftSetElementListAttribute.TABLE)
                table = a.String();
            else if (a.Type == (ushort)NftSetElementListAttribute.SET)
                set = a.String();
        }
        var elements = new List<SetElement>();
        SetElementCodec.Decode(message, elements);
        bool added = message.SubsystemMessage == (byte)NftMessageType.NEWSETELEM;
        return new(added ? NftablesChangeKind.ElementsAdded : NftablesChangeKind.ElementsDeleted, family, message.PortId, message.Type)
        {
            TableName = table ?? throw new NetlinkDecodeException("set element notification without NFTA_SET_ELEM_LIST_TABLE"),
            SetName = set ?? throw new NetlinkDecodeException("set element notification without NFTA_SET_ELEM_LIST_SET"),
            Elements = elements,
        };
    }

    private void OnNewGeneration(in NetlinkMessage message, NftFamily family)
    {
        uint? generation = null;
        int? pid = null;
        string? name = null;
        try
        {
            var attributes = message.Attributes;
            while (attributes.TryRead(out var a))
            {
                switch ((NftGenAttribute)a.Type)
                {
                    case NftGenAttribute.ID: generation = a.U32BigEndian(); break;
                    case NftGenAttribute.PROC_PID: pid = (int)a.U32BigEndian(); break;
                    case NftGenAttribute.PROC_NAME: name = a.String(); break;
                }
            }
        }
        catch (NetlinkDecodeException e)
        {
            Release(null);
            _ready.Enqueue(Unknown(message, family, e.Message));
            return;
        }
        var committed = new NftablesChange(NftablesChangeKind.Committed, family, message.PortId, message.Type)
        {
            Generation = generation,
            ProcessId = pid,
            ProcessName = name,
        };
        // Only changes whose res_id matches belong to this commit; others lost their own NEWGEN.
        bool matches = generation is { } g && (ushort)g == _heldResourceId;
        Release(matches ? committed : null);
        _ready.Enqueue(committed);
    }

    private void Release(NftablesChange? commit)
    {
        foreach (var change in _held)
        {
            if (commit is not null)
            {
                change.Generation = commit.Generation;
                change.ProcessId = commit.ProcessId;
                change.ProcessName = commit.ProcessName;
            }
            _ready.Enqueue(change);
        }
        _held.Clear();
    }

    private static NftablesChange Unknown(in NetlinkMessage message, NftFamily family, string? error) =>
        new(NftablesChangeKind.Unknown, family, message.PortId, message.Type)
        {
            RawPayload = message.Payload.ToArray(),
            Error = error,
        };
}
