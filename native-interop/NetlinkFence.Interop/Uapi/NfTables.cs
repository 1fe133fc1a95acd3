// Kernel UAPI constants from <linux/netfilter/nf_tables.h>.
// Member names keep the C spelling after the prefix named by [UapiPrefix], so the
// constants test can rebuild each C name and compare the value with the installed header.

namespace NetlinkFence.Interop.Uapi;

/// <summary>Values of <c>NFT_MSG_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_MSG_", "linux/netfilter/nf_tables.h")]
public enum NftMessageType : byte
{
    /// <summary><c>NFT_MSG_NEWTABLE</c></summary>
    NEWTABLE = 0,
    /// <summary><c>NFT_MSG_GETTABLE</c></summary>
    GETTABLE = 1,
    /// <summary><c>NFT_MSG_DELTABLE</c></summary>
    DELTABLE = 2,
    /// <summary><c>NFT_MSG_NEWCHAIN</c></summary>
    NEWCHAIN = 3,
    /// <summary><c>NFT_MSG_GETCHAIN</c></summary>
    GETCHAIN = 4,
    /// <summary><c>NFT_MSG_DELCHAIN</c></summary>
    DELCHAIN = 5,
    /// <summary><c>NFT_MSG_NEWRULE</c></summary>
    NEWRULE = 6,
    /// <summary><c>NFT_MSG_GETRULE</c></summary>
    GETRULE = 7,
    /// <summary><c>NFT_MSG_DELRULE</c></summary>
    DELRULE = 8,
    /// <summary><c>NFT_MSG_NEWSET</c></summary>
    NEWSET = 9,
    /// <summary><c>NFT_MSG_GETSET</c></summary>
    GETSET = 10,
    /// <summary><c>NFT_MSG_DELSET</c></summary>
    DELSET = 11,
    /// <summary><c>NFT_MSG_NEWSETELEM</c></summary>
    NEWSETELEM = 12,
    /// <summary><c>NFT_MSG_GETSETELEM</c></summary>
    GETSETELEM = 13,
    /// <summary><c>NFT_MSG_DELSETELEM</c></summary>
    DELSETELEM = 14,
    /// <summary><c>NFT_MSG_NEWGEN</c></summary>
    NEWGEN = 15,
    /// <summary><c>NFT_MSG_GETGEN</c></summary>
    GETGEN = 16,
    /// <summary><c>NFT_MSG_TRACE</c></summary>
    TRACE = 17,
    /// <summary><c>NFT_MSG_NEWOBJ</c></summary>
    NEWOBJ = 18,
    /// <summary><c>NFT_MSG_GETOBJ</c></summary>
    GETOBJ = 19,
    /// <summary><c>NFT_MSG_DELOBJ</c></summary>
    DELOBJ = 20,
    /// <summary><c>NFT_MSG_GETOBJ_RESET</c></summary>
    GETOBJ_RESET = 21,
    /// <summary><c>NFT_MSG_NEWFLOWTABLE</c></summary>
    NEWFLOWTABLE = 22,
    /// <summary><c>NFT_MSG_GETFLOWTABLE</c></summary>
    GETFLOWTABLE = 23,
    /// <summary><c>NFT_MSG_DELFLOWTABLE</c></summary>
    DELFLOWTABLE = 24,
}

/// <summary>Values of <c>NFT_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_", "linux/netfilter/nf_tables.h")]
public enum NftLimits : int
{
    /// <summary><c>NFT_NAME_MAXLEN</c></summary>
    NAME_MAXLEN = 256,
    /// <summary><c>NFT_USERDATA_MAXLEN</c></summary>
    USERDATA_MAXLEN = 256,
}

/// <summary>Values of <c>NFT_REG_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_REG_", "linux/netfilter/nf_tables.h")]
public enum NftRegister : uint
{
    /// <summary><c>NFT_REG_VERDICT</c></summary>
    VERDICT = 0,
    /// <summary><c>NFT_REG_1</c></summary>
    R1 = 1,
    /// <summary><c>NFT_REG_2</c></summary>
    R2 = 2,
    /// <summary><c>NFT_REG_3</c></summary>
    R3 = 3,
    /// <summary><c>NFT_REG_4</c></summary>
    R4 = 4,
}

/// <summary>Values of <c>NFT_REG32_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_REG32_", "linux/netfilter/nf_tables.h")]
public enum NftRegister32 : uint
{
    /// <summary><c>NFT_REG32_00</c></summary>
    R00 = 8,
    /// <summary><c>NFT_REG32_01</c></summary>
    R01 = 9,
    /// <summary><c>NFT_REG32_02</c></summary>
    R02 = 10,
    /// <summary><c>NFT_REG32_03</c></summary>
    R03 = 11,
    /// <summary><c>NFT_REG32_04</c></summary>
    R04 = 12,
    /// <summary><c>NFT_REG32_05</c></summary>
    R05 = 13,
    /// <summary><c>NFT_REG32_06</c></summary>
    R06 = 14,
    /// <summary><c>NFT_REG32_07</c></summary>
    R07 = 15,
    /// <summary><c>NFT_REG32_08</c></summary>
    R08 = 16,
    /// <summary><c>NFT_REG32_09</c></summary>
    R09 = 17,
    /// <summary><c>NFT_REG32_10</c></summary>
    R10 = 18,
    /// <summary><c>NFT_REG32_11</c></summary>
    R11 = 19,
    /// <summary><c>NFT_REG32_12</c></summary>
    R12 = 20,
    /// <summary><c>NFT_REG32_13</c></summary>
    R13 = 21,
    /// <summary><c>NFT_REG32_14</c></summary>
    R14 = 22,
    /// <summary><c>NFT_REG32_15</c></summary>
    R15 = 23,
}

/// <summary>Values of <c>NFT_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_", "linux/netfilter/nf_tables.h")]
public enum NftVerdictCode : int
{
    /// <summary><c>NFT_CONTINUE</c></summary>
    CONTINUE = -1,
    /// <summary><c>NFT_BREAK</c></summary>
    BREAK = -2,
    /// <summary><c>NFT_JUMP</c></summary>
    JUMP = -3,
    /// <summary><c>NFT_GOTO</c></summary>
    GOTO = -4,
    /// <summary><c>NFT_RETURN</c></summary>
    RETURN = -5,
}

/// <summary>Values of <c>NFT_TABLE_F_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_TABLE_F_", "linux/netfilter/nf_tables.h")]
[Flags]
public enum NftTableFlags : uint
{
    /// <summary><c>NFT_TABLE_F_DORMANT</c></summary>
    DORMANT = 0x1,
    /// <summary><c>NFT_TABLE_F_OWNER</c></summary>
    OWNER = 0x2,
}

/// <summary>Values of <c>NFTA_TABLE_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_TABLE_", "linux/netfilter/nf_tables.h")]
public enum NftTableAttribute : ushort
{
    /// <summary><c>NFTA_TABLE_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_TABLE_NAME</c></summary>
    NAME = 1,
    /// <summary><c>NFTA_TABLE_FLAGS</c></summary>
    FLAGS = 2,
    /// <summary><c>NFTA_TABLE_USE</c></summary>
    USE = 3,
    /// <summary><c>NFTA_TABLE_HANDLE</c></summary>
    HANDLE = 4,
    /// <summary><c>NFTA_TABLE_PAD</c></summary>
    PAD = 5,
    /// <summary><c>NFTA_TABLE_USERDATA</c></summary>
    USERDATA = 6,
    /// <summary><c>NFTA_TABLE_OWNER</c></summary>
    OWNER = 7,
}

/// <summary>Values of <c>NFT_CHAIN_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_CHAIN_", "linux/netfilter/nf_tables.h")]
[Flags]
public enum NftChainFlags : uint
{
    /// <summary><c>NFT_CHAIN_BASE</c></summary>
    BASE = 0x1,
    /// <summary><c>NFT_CHAIN_HW_OFFLOAD</c></summary>
    HW_OFFLOAD = 0x2,
    /// <summary><c>NFT_CHAIN_BINDING</c></summary>
    BINDING = 0x4,
}

/// <summary>Values of <c>NFTA_CHAIN_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_CHAIN_", "linux/netfilter/nf_tables.h")]
public enum NftChainAttribute : ushort
{
    /// <summary><c>NFTA_CHAIN_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_CHAIN_TABLE</c></summary>
    TABLE = 1,
    /// <summary><c>NFTA_CHAIN_HANDLE</c></summary>
    HANDLE = 2,
    /// <summary><c>NFTA_CHAIN_NAME</c></summary>
    NAME = 3,
    /// <summary><c>NFTA_CHAIN_HOOK</c></summary>
    HOOK = 4,
    /// <summary><c>NFTA_CHAIN_POLICY</c></summary>
    POLICY = 5,
    /// <summary><c>NFTA_CHAIN_USE</c></summary>
    USE = 6,
    /// <summary><c>NFTA_CHAIN_TYPE</c></summary>
    TYPE = 7,
    /// <summary><c>NFTA_CHAIN_COUNTERS</c></summary>
    COUNTERS = 8,
    /// <summary><c>NFTA_CHAIN_PAD</c></summary>
    PAD = 9,
    /// <summary><c>NFTA_CHAIN_FLAGS</c></summary>
    FLAGS = 10,
    /// <summary><c>NFTA_CHAIN_ID</c></summary>
    ID = 11,
    /// <summary><c>NFTA_CHAIN_USERDATA</c></summary>
    USERDATA = 12,
}

/// <summary>Values of <c>NFTA_HOOK_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_HOOK_", "linux/netfilter/nf_tables.h")]
public enum NftHookAttribute : ushort
{
    /// <summary><c>NFTA_HOOK_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_HOOK_HOOKNUM</c></summary>
    HOOKNUM = 1,
    /// <summary><c>NFTA_HOOK_PRIORITY</c></summary>
    PRIORITY = 2,
    /// <summary><c>NFTA_HOOK_DEV</c></summary>
    DEV = 3,
    /// <summary><c>NFTA_HOOK_DEVS</c></summary>
    DEVS = 4,
}

/// <summary>Values of <c>NFTA_RULE_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_RULE_", "linux/netfilter/nf_tables.h")]
public enum NftRuleAttribute : ushort
{
    /// <summary><c>NFTA_RULE_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_RULE_TABLE</c></summary>
    TABLE = 1,
    /// <summary><c>NFTA_RULE_CHAIN</c></summary>
    CHAIN = 2,
    /// <summary><c>NFTA_RULE_HANDLE</c></summary>
    HANDLE = 3,
    /// <summary><c>NFTA_RULE_EXPRESSIONS</c></summary>
    EXPRESSIONS = 4,
    /// <summary><c>NFTA_RULE_COMPAT</c></summary>
    COMPAT = 5,
    /// <summary><c>NFTA_RULE_POSITION</c></summary>
    POSITION = 6,
    /// <summary><c>NFTA_RULE_USERDATA</c></summary>
    USERDATA = 7,
    /// <summary><c>NFTA_RULE_PAD</c></summary>
    PAD = 8,
    /// <summary><c>NFTA_RULE_ID</c></summary>
    ID = 9,
    /// <summary><c>NFTA_RULE_POSITION_ID</c></summary>
    POSITION_ID = 10,
    /// <summary><c>NFTA_RULE_CHAIN_ID</c></summary>
    CHAIN_ID = 11,
}

/// <summary>Values of <c>NFTA_LIST_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_LIST_", "linux/netfilter/nf_tables.h")]
public enum NftListAttribute : ushort
{
    /// <summary><c>NFTA_LIST_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_LIST_ELEM</c></summary>
    ELEM = 1,
}

/// <summary>Values of <c>NFTA_EXPR_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_EXPR_", "linux/netfilter/nf_tables.h")]
public enum NftExpressionAttribute : ushort
{
    /// <summary><c>NFTA_EXPR_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_EXPR_NAME</c></summary>
    NAME = 1,
    /// <summary><c>NFTA_EXPR_DATA</c></summary>
    DATA = 2,
}

/// <summary>Values of <c>NFT_SET_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_SET_", "linux/netfilter/nf_tables.h")]
[Flags]
public enum NftSetFlags : uint
{
    /// <summary><c>NFT_SET_ANONYMOUS</c></summary>
    ANONYMOUS = 0x1,
    /// <summary><c>NFT_SET_CONSTANT</c></summary>
    CONSTANT = 0x2,
    /// <summary><c>NFT_SET_INTERVAL</c></summary>
    INTERVAL = 0x4,
    /// <summary><c>NFT_SET_MAP</c></summary>
    MAP = 0x8,
    /// <summary><c>NFT_SET_TIMEOUT</c></summary>
    TIMEOUT = 0x10,
    /// <summary><c>NFT_SET_EVAL</c></summary>
    EVAL = 0x20,
    /// <summary><c>NFT_SET_OBJECT</c></summary>
    OBJECT = 0x40,
    /// <summary><c>NFT_SET_CONCAT</c></summary>
    CONCAT = 0x80,
    /// <summary><c>NFT_SET_EXPR</c></summary>
    EXPR = 0x100,
}

/// <summary>Values of <c>NFTA_SET_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_SET_", "linux/netfilter/nf_tables.h")]
public enum NftSetAttribute : ushort
{
    /// <summary><c>NFTA_SET_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_SET_TABLE</c></summary>
    TABLE = 1,
    /// <summary><c>NFTA_SET_NAME</c></summary>
    NAME = 2,
    /// <summary><c>NFTA_SET_FLAGS</c></summary>
    FLAGS = 3,
    /// <summary><c>NFTA_SET_KEY_TYPE</c></summary>
    KEY_TYPE = 4,
    /// <summary><c>NFTA_SET_KEY_LEN</c></summary>
    KEY_LEN = 5,
    /// <summary><c>NFTA_SET_DATA_TYPE</c></summary>
    DATA_TYPE = 6,
    /// <summary><c>NFTA_SET_DATA_LEN</c></summary>
    DATA_LEN = 7,
    /// <summary><c>NFTA_SET_POLICY</c></summary>
    POLICY = 8,
    /// <summary><c>NFTA_SET_DESC</c></summary>
    DESC = 9,
    /// <summary><c>NFTA_SET_ID</c></summary>
    ID = 10,
    /// <summary><c>NFTA_SET_TIMEOUT</c></summary>
    TIMEOUT = 11,
    /// <summary><c>NFTA_SET_GC_INTERVAL</c></summary>
    GC_INTERVAL = 12,
    /// <summary><c>NFTA_SET_USERDATA</c></summary>
    USERDATA = 13,
    /// <summary><c>NFTA_SET_PAD</c></summary>
    PAD = 14,
    /// <summary><c>NFTA_SET_OBJ_TYPE</c></summary>
    OBJ_TYPE = 15,
    /// <summary><c>NFTA_SET_HANDLE</c></summary>
    HANDLE = 16,
    /// <summary><c>NFTA_SET_EXPR</c></summary>
    EXPR = 17,
    /// <summary><c>NFTA_SET_EXPRESSIONS</c></summary>
    EXPRESSIONS = 18,
}

/// <summary>Values of <c>NFTA_SET_DESC_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_SET_DESC_", "linux/netfilter/nf_tables.h")]
public enum NftSetDescAttribute : ushort
{
    /// <summary><c>NFTA_SET_DESC_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_SET_DESC_SIZE</c></summary>
    SIZE = 1,
    /// <summary><c>NFTA_SET_DESC_CONCAT</c></summary>
    CONCAT = 2,
}

/// <summary>Values of <c>NFTA_SET_FIELD_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_SET_FIELD_", "linux/netfilter/nf_tables.h")]
public enum NftSetFieldAttribute : ushort
{
    /// <summary><c>NFTA_SET_FIELD_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_SET_FIELD_LEN</c></summary>
    LEN = 1,
}

/// <summary>Values of <c>NFT_SET_ELEM_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_SET_ELEM_", "linux/netfilter/nf_tables.h")]
[Flags]
public enum NftSetElementFlags : uint
{
    /// <summary><c>NFT_SET_ELEM_INTERVAL_END</c></summary>
    INTERVAL_END = 0x1,
    /// <summary><c>NFT_SET_ELEM_CATCHALL</c></summary>
    CATCHALL = 0x2,
}

/// <summary>Values of <c>NFTA_SET_ELEM_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_SET_ELEM_", "linux/netfilter/nf_tables.h")]
public enum NftSetElementAttribute : ushort
{
    /// <summary><c>NFTA_SET_ELEM_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_SET_ELEM_KEY</c></summary>
    KEY = 1,
    /// <summary><c>NFTA_SET_ELEM_DATA</c></summary>
    DATA = 2,
    /// <summary><c>NFTA_SET_ELEM_FLAGS</c></summary>
    FLAGS = 3,
    /// <summary><c>NFTA_SET_ELEM_TIMEOUT</c></summary>
    TIMEOUT = 4,
    /// <summary><c>NFTA_SET_ELEM_EXPIRATION</c></summary>
    EXPIRATION = 5,
    /// <summary><c>NFTA_SET_ELEM_USERDATA</c></summary>
    USERDATA = 6,
    /// <summary><c>NFTA_SET_ELEM_EXPR</c></summary>
    EXPR = 7,
    /// <summary><c>NFTA_SET_ELEM_PAD</c></summary>
    PAD = 8,
    /// <summary><c>NFTA_SET_ELEM_OBJREF</c></summary>
    OBJREF = 9,
    /// <summary><c>NFTA_SET_ELEM_KEY_END</c></summary>
    KEY_END = 10,
    /// <summary><c>NFTA_SET_ELEM_EXPRESSIONS</c></summary>
    EXPRESSIONS = 11,
}

/// <summary>Values of <c>NFTA_SET_ELEM_LIST_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_SET_ELEM_LIST_", "linux/netfilter/nf_tables.h")]
public enum NftSetElementListAttribute : ushort
{
    /// <summary><c>NFTA_SET_ELEM_LIST_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_SET_ELEM_LIST_TABLE</c></summary>
    TABLE = 1,
    /// <summary><c>NFTA_SET_ELEM_LIST_SET</c></summary>
    SET = 2,
    /// <summary><c>NFTA_SET_ELEM_LIST_ELEMENTS</c></summary>
    ELEMENTS = 3,
    /// <summary><c>NFTA_SET_ELEM_LIST_SET_ID</c></summary>
    SET_ID = 4,
}

/// <summary>Values of <c>NFT_DATA_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_DATA_", "linux/netfilter/nf_tables.h")]
public enum NftDataType : uint
{
    /// <summary><c>NFT_DATA_VALUE</c></summary>
    VALUE = 0,
    /// <summary><c>NFT_DATA_VERDICT</c></summary>
    VERDICT = 4294967040,
}

/// <summary>Values of <c>NFTA_DATA_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_DATA_", "linux/netfilter/nf_tables.h")]
public enum NftDataAttribute : ushort
{
    /// <summary><c>NFTA_DATA_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_DATA_VALUE</c></summary>
    VALUE = 1,
    /// <summary><c>NFTA_DATA_VERDICT</c></summary>
    VERDICT = 2,
}

/// <summary>Values of <c>NFTA_VERDICT_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_VERDICT_", "linux/netfilter/nf_tables.h")]
public enum NftVerdictAttribute : ushort
{
    /// <summary><c>NFTA_VERDICT_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_VERDICT_CODE</c></summary>
    CODE = 1,
    /// <summary><c>NFTA_VERDICT_CHAIN</c></summary>
    CHAIN = 2,
    /// <summary><c>NFTA_VERDICT_CHAIN_ID</c></summary>
    CHAIN_ID = 3,
}

/// <summary>Values of <c>NFTA_IMMEDIATE_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_IMMEDIATE_", "linux/netfilter/nf_tables.h")]
public enum NftImmediateAttribute : ushort
{
    /// <summary><c>NFTA_IMMEDIATE_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_IMMEDIATE_DREG</c></summary>
    DREG = 1,
    /// <summary><c>NFTA_IMMEDIATE_DATA</c></summary>
    DATA = 2,
}

/// <summary>Values of <c>NFT_CMP_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_CMP_", "linux/netfilter/nf_tables.h")]
public enum NftCmpOp : uint
{
    /// <summary><c>NFT_CMP_EQ</c></summary>
    EQ = 0,
    /// <summary><c>NFT_CMP_NEQ</c></summary>
    NEQ = 1,
    /// <summary><c>NFT_CMP_LT</c></summary>
    LT = 2,
    /// <summary><c>NFT_CMP_LTE</c></summary>
    LTE = 3,
    /// <summary><c>NFT_CMP_GT</c></summary>
    GT = 4,
    /// <summary><c>NFT_CMP_GTE</c></summary>
    GTE = 5,
}

/// <summary>Values of <c>NFTA_CMP_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_CMP_", "linux/netfilter/nf_tables.h")]
public enum NftCmpAttribute : ushort
{
    /// <summary><c>NFTA_CMP_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_CMP_SREG</c></summary>
    SREG = 1,
    /// <summary><c>NFTA_CMP_OP</c></summary>
    OP = 2,
    /// <summary><c>NFTA_CMP_DATA</c></summary>
    DATA = 3,
}

/// <summary>Values of <c>NFT_RANGE_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_RANGE_", "linux/netfilter/nf_tables.h")]
public enum NftRangeOp : uint
{
    /// <summary><c>NFT_RANGE_EQ</c></summary>
    EQ = 0,
    /// <summary><c>NFT_RANGE_NEQ</c></summary>
    NEQ = 1,
}

/// <summary>Values of <c>NFTA_RANGE_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_RANGE_", "linux/netfilter/nf_tables.h")]
public enum NftRangeAttribute : ushort
{
    /// <summary><c>NFTA_RANGE_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_RANGE_SREG</c></summary>
    SREG = 1,
    /// <summary><c>NFTA_RANGE_OP</c></summary>
    OP = 2,
    /// <summary><c>NFTA_RANGE_FROM_DATA</c></summary>
    FROM_DATA = 3,
    /// <summary><c>NFTA_RANGE_TO_DATA</c></summary>
    TO_DATA = 4,
}

/// <summary>Values of <c>NFT_BITWISE_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_BITWISE_", "linux/netfilter/nf_tables.h")]
public enum NftBitwiseOp : uint
{
    /// <summary><c>NFT_BITWISE_MASK_XOR</c></summary>
    MASK_XOR = 0,
    /// <summary><c>NFT_BITWISE_LSHIFT</c></summary>
    LSHIFT = 1,
    /// <summary><c>NFT_BITWISE_RSHIFT</c></summary>
    RSHIFT = 2,
}

/// <summary>Values of <c>NFTA_BITWISE_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_BITWISE_", "linux/netfilter/nf_tables.h")]
public enum NftBitwiseAttribute : ushort
{
    /// <summary><c>NFTA_BITWISE_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_BITWISE_SREG</c></summary>
    SREG = 1,
    /// <summary><c>NFTA_BITWISE_DREG</c></summary>
    DREG = 2,
    /// <summary><c>NFTA_BITWISE_LEN</c></summary>
    LEN = 3,
    /// <summary><c>NFTA_BITWISE_MASK</c></summary>
    MASK = 4,
    /// <summary><c>NFTA_BITWISE_XOR</c></summary>
    XOR = 5,
    /// <summary><c>NFTA_BITWISE_OP</c></summary>
    OP = 6,
    /// <summary><c>NFTA_BITWISE_DATA</c></summary>
    DATA = 7,
}

/// <summary>Values of <c>NFT_LOOKUP_F_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_LOOKUP_F_", "linux/netfilter/nf_tables.h")]
[Flags]
public enum NftLookupFlags : uint
{
    /// <summary><c>NFT_LOOKUP_F_INV</c></summary>
    INV = 0x1,
}

/// <summary>Values of <c>NFTA_EXTHDR_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_EXTHDR_", "linux/netfilter/nf_tables.h")]
public enum NftExthdrAttribute : ushort
{
    /// <summary><c>NFTA_EXTHDR_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_EXTHDR_DREG</c></summary>
    DREG = 1,
    /// <summary><c>NFTA_EXTHDR_TYPE</c></summary>
    TYPE = 2,
    /// <summary><c>NFTA_EXTHDR_OFFSET</c></summary>
    OFFSET = 3,
    /// <summary><c>NFTA_EXTHDR_LEN</c></summary>
    LEN = 4,
    /// <summary><c>NFTA_EXTHDR_FLAGS</c></summary>
    FLAGS = 5,
    /// <summary><c>NFTA_EXTHDR_OP</c></summary>
    OP = 6,
    /// <summary><c>NFTA_EXTHDR_SREG</c></summary>
    SREG = 7,
}

/// <summary>Values of <c>NFT_EXTHDR_OP_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_EXTHDR_OP_", "linux/netfilter/nf_tables.h")]
public enum NftExthdrOp : uint
{
    /// <summary><c>NFT_EXTHDR_OP_IPV6</c></summary>
    IPV6 = 0,
    /// <summary><c>NFT_EXTHDR_OP_TCPOPT</c></summary>
    TCPOPT = 1,
    /// <summary><c>NFT_EXTHDR_OP_IPV4</c></summary>
    IPV4 = 2,
    /// <summary><c>NFT_EXTHDR_OP_SCTP</c></summary>
    SCTP = 3,
    /// <summary><c>NFT_EXTHDR_OP_DCCP</c></summary>
    DCCP = 4,
}

/// <summary>Values of <c>NFTA_SOCKET_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_SOCKET_", "linux/netfilter/nf_tables.h")]
public enum NftSocketAttribute : ushort
{
    /// <summary><c>NFTA_SOCKET_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_SOCKET_KEY</c></summary>
    KEY = 1,
    /// <summary><c>NFTA_SOCKET_DREG</c></summary>
    DREG = 2,
    /// <summary><c>NFTA_SOCKET_LEVEL</c></summary>
    LEVEL = 3,
}

/// <summary>Values of <c>NFT_SOCKET_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_SOCKET_", "linux/netfilter/nf_tables.h")]
public enum NftSocketKey : uint
{
    /// <summary><c>NFT_SOCKET_TRANSPARENT</c></summary>
    TRANSPARENT = 0,
    /// <summary><c>NFT_SOCKET_MARK</c></summary>
    MARK = 1,
    /// <summary><c>NFT_SOCKET_WILDCARD</c></summary>
    WILDCARD = 2,
    /// <summary><c>NFT_SOCKET_CGROUPV2</c></summary>
    CGROUPV2 = 3,
}

/// <summary>Values of <c>NFTA_BYTEORDER_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_BYTEORDER_", "linux/netfilter/nf_tables.h")]
public enum NftByteorderAttribute : ushort
{
    /// <summary><c>NFTA_BYTEORDER_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_BYTEORDER_SREG</c></summary>
    SREG = 1,
    /// <summary><c>NFTA_BYTEORDER_DREG</c></summary>
    DREG = 2,
    /// <summary><c>NFTA_BYTEORDER_OP</c></summary>
    OP = 3,
    /// <summary><c>NFTA_BYTEORDER_LEN</c></summary>
    LEN = 4,
    /// <summary><c>NFTA_BYTEORDER_SIZE</c></summary>
    SIZE = 5,
}

/// <summary>Values of <c>NFT_BYTEORDER_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_BYTEORDER_", "linux/netfilter/nf_tables.h")]
public enum NftByteorderOp : uint
{
    /// <summary><c>NFT_BYTEORDER_NTOH</c></summary>
    NTOH = 0,
    /// <summary><c>NFT_BYTEORDER_HTON</c></summary>
    HTON = 1,
}

/// <summary>Values of <c>NFTA_LOOKUP_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_LOOKUP_", "linux/netfilter/nf_tables.h")]
public enum NftLookupAttribute : ushort
{
    /// <summary><c>NFTA_LOOKUP_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_LOOKUP_SET</c></summary>
    SET = 1,
    /// <summary><c>NFTA_LOOKUP_SREG</c></summary>
    SREG = 2,
    /// <summary><c>NFTA_LOOKUP_DREG</c></summary>
    DREG = 3,
    /// <summary><c>NFTA_LOOKUP_SET_ID</c></summary>
    SET_ID = 4,
    /// <summary><c>NFTA_LOOKUP_FLAGS</c></summary>
    FLAGS = 5,
}

/// <summary>Values of <c>NFT_PAYLOAD_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_PAYLOAD_", "linux/netfilter/nf_tables.h")]
public enum NftPayloadBase : uint
{
    /// <summary><c>NFT_PAYLOAD_LL_HEADER</c></summary>
    LL_HEADER = 0,
    /// <summary><c>NFT_PAYLOAD_NETWORK_HEADER</c></summary>
    NETWORK_HEADER = 1,
    /// <summary><c>NFT_PAYLOAD_TRANSPORT_HEADER</c></summary>
    TRANSPORT_HEADER = 2,
    /// <summary><c>NFT_PAYLOAD_INNER_HEADER</c></summary>
    INNER_HEADER = 3,
}

/// <summary>Values of <c>NFTA_PAYLOAD_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_PAYLOAD_", "linux/netfilter/nf_tables.h")]
public enum NftPayloadAttribute : ushort
{
    /// <summary><c>NFTA_PAYLOAD_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_PAYLOAD_DREG</c></summary>
    DREG = 1,
    /// <summary><c>NFTA_PAYLOAD_BASE</c></summary>
    BASE = 2,
    /// <summary><c>NFTA_PAYLOAD_OFFSET</c></summary>
    OFFSET = 3,
    /// <summary><c>NFTA_PAYLOAD_LEN</c></summary>
    LEN = 4,
    /// <summary><c>NFTA_PAYLOAD_SREG</c></summary>
    SREG = 5,
    /// <summary><c>NFTA_PAYLOAD_CSUM_TYPE</c></summary>
    CSUM_TYPE = 6,
    /// <summary><c>NFTA_PAYLOAD_CSUM_OFFSET</c></summary>
    CSUM_OFFSET = 7,
    /// <summary><c>NFTA_PAYLOAD_CSUM_FLAGS</c></summary>
    CSUM_FLAGS = 8,
}

/// <summary>Values of <c>NFT_META_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_META_", "linux/netfilter/nf_tables.h")]
public enum NftMetaKey : uint
{
    /// <summary><c>NFT_META_LEN</c></summary>
    LEN = 0,
    /// <summary><c>NFT_META_PROTOCOL</c></summary>
    PROTOCOL = 1,
    /// <summary><c>NFT_META_PRIORITY</c></summary>
    PRIORITY = 2,
    /// <summary><c>NFT_META_MARK</c></summary>
    MARK = 3,
    /// <summary><c>NFT_META_IIF</c></summary>
    IIF = 4,
    /// <summary><c>NFT_META_OIF</c></summary>
    OIF = 5,
    /// <summary><c>NFT_META_IIFNAME</c></summary>
    IIFNAME = 6,
    /// <summary><c>NFT_META_OIFNAME</c></summary>
    OIFNAME = 7,
    /// <summary><c>NFT_META_IFTYPE</c></summary>
    IFTYPE = 8,
    /// <summary><c>NFT_META_OIFTYPE</c></summary>
    OIFTYPE = 9,
    /// <summary><c>NFT_META_SKUID</c></summary>
    SKUID = 10,
    /// <summary><c>NFT_META_SKGID</c></summary>
    SKGID = 11,
    /// <summary><c>NFT_META_NFTRACE</c></summary>
    NFTRACE = 12,
    /// <summary><c>NFT_META_RTCLASSID</c></summary>
    RTCLASSID = 13,
    /// <summary><c>NFT_META_SECMARK</c></summary>
    SECMARK = 14,
    /// <summary><c>NFT_META_NFPROTO</c></summary>
    NFPROTO = 15,
    /// <summary><c>NFT_META_L4PROTO</c></summary>
    L4PROTO = 16,
    /// <summary><c>NFT_META_BRI_IIFNAME</c></summary>
    BRI_IIFNAME = 17,
    /// <summary><c>NFT_META_BRI_OIFNAME</c></summary>
    BRI_OIFNAME = 18,
    /// <summary><c>NFT_META_PKTTYPE</c></summary>
    PKTTYPE = 19,
    /// <summary><c>NFT_META_CPU</c></summary>
    CPU = 20,
    /// <summary><c>NFT_META_IIFGROUP</c></summary>
    IIFGROUP = 21,
    /// <summary><c>NFT_META_OIFGROUP</c></summary>
    OIFGROUP = 22,
    /// <summary><c>NFT_META_CGROUP</c></summary>
    CGROUP = 23,
    /// <summary><c>NFT_META_PRANDOM</c></summary>
    PRANDOM = 24,
    /// <summary><c>NFT_META_SECPATH</c></summary>
    SECPATH = 25,
    /// <summary><c>NFT_META_IIFKIND</c></summary>
    IIFKIND = 26,
    /// <summary><c>NFT_META_OIFKIND</c></summary>
    OIFKIND = 27,
    /// <summary><c>NFT_META_BRI_IIFPVID</c></summary>
    BRI_IIFPVID = 28,
    /// <summary><c>NFT_META_BRI_IIFVPROTO</c></summary>
    BRI_IIFVPROTO = 29,
    /// <summary><c>NFT_META_TIME_NS</c></summary>
    TIME_NS = 30,
    /// <summary><c>NFT_META_TIME_DAY</c></summary>
    TIME_DAY = 31,
    /// <summary><c>NFT_META_TIME_HOUR</c></summary>
    TIME_HOUR = 32,
    /// <summary><c>NFT_META_SDIF</c></summary>
    SDIF = 33,
    /// <summary><c>NFT_META_SDIFNAME</c></summary>
    SDIFNAME = 34,
}

/// <summary>Values of <c>NFTA_META_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_META_", "linux/netfilter/nf_tables.h")]
public enum NftMetaAttribute : ushort
{
    /// <summary><c>NFTA_META_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_META_DREG</c></summary>
    DREG = 1,
    /// <summary><c>NFTA_META_KEY</c></summary>
    KEY = 2,
    /// <summary><c>NFTA_META_SREG</c></summary>
    SREG = 3,
}

/// <summary>Values of <c>NFT_CT_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_CT_", "linux/netfilter/nf_tables.h")]
public enum NftCtKey : uint
{
    /// <summary><c>NFT_CT_STATE</c></summary>
    STATE = 0,
    /// <summary><c>NFT_CT_DIRECTION</c></summary>
    DIRECTION = 1,
    /// <summary><c>NFT_CT_STATUS</c></summary>
    STATUS = 2,
    /// <summary><c>NFT_CT_MARK</c></summary>
    MARK = 3,
    /// <summary><c>NFT_CT_SECMARK</c></summary>
    SECMARK = 4,
    /// <summary><c>NFT_CT_EXPIRATION</c></summary>
    EXPIRATION = 5,
    /// <summary><c>NFT_CT_HELPER</c></summary>
    HELPER = 6,
    /// <summary><c>NFT_CT_L3PROTOCOL</c></summary>
    L3PROTOCOL = 7,
    /// <summary><c>NFT_CT_SRC</c></summary>
    SRC = 8,
    /// <summary><c>NFT_CT_DST</c></summary>
    DST = 9,
    /// <summary><c>NFT_CT_PROTOCOL</c></summary>
    PROTOCOL = 10,
    /// <summary><c>NFT_CT_PROTO_SRC</c></summary>
    PROTO_SRC = 11,
    /// <summary><c>NFT_CT_PROTO_DST</c></summary>
    PROTO_DST = 12,
    /// <summary><c>NFT_CT_LABELS</c></summary>
    LABELS = 13,
    /// <summary><c>NFT_CT_PKTS</c></summary>
    PKTS = 14,
    /// <summary><c>NFT_CT_BYTES</c></summary>
    BYTES = 15,
    /// <summary><c>NFT_CT_AVGPKT</c></summary>
    AVGPKT = 16,
    /// <summary><c>NFT_CT_ZONE</c></summary>
    ZONE = 17,
    /// <summary><c>NFT_CT_EVENTMASK</c></summary>
    EVENTMASK = 18,
    /// <summary><c>NFT_CT_SRC_IP</c></summary>
    SRC_IP = 19,
    /// <summary><c>NFT_CT_DST_IP</c></summary>
    DST_IP = 20,
    /// <summary><c>NFT_CT_SRC_IP6</c></summary>
    SRC_IP6 = 21,
    /// <summary><c>NFT_CT_DST_IP6</c></summary>
    DST_IP6 = 22,
    /// <summary><c>NFT_CT_ID</c></summary>
    ID = 23,
}

/// <summary>Values of <c>NFTA_CT_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_CT_", "linux/netfilter/nf_tables.h")]
public enum NftCtAttribute : ushort
{
    /// <summary><c>NFTA_CT_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_CT_DREG</c></summary>
    DREG = 1,
    /// <summary><c>NFTA_CT_KEY</c></summary>
    KEY = 2,
    /// <summary><c>NFTA_CT_DIRECTION</c></summary>
    DIRECTION = 3,
    /// <summary><c>NFTA_CT_SREG</c></summary>
    SREG = 4,
}

/// <summary>Values of <c>NFTA_LOG_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_LOG_", "linux/netfilter/nf_tables.h")]
public enum NftLogAttribute : ushort
{
    /// <summary><c>NFTA_LOG_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_LOG_GROUP</c></summary>
    GROUP = 1,
    /// <summary><c>NFTA_LOG_PREFIX</c></summary>
    PREFIX = 2,
    /// <summary><c>NFTA_LOG_SNAPLEN</c></summary>
    SNAPLEN = 3,
    /// <summary><c>NFTA_LOG_QTHRESHOLD</c></summary>
    QTHRESHOLD = 4,
    /// <summary><c>NFTA_LOG_LEVEL</c></summary>
    LEVEL = 5,
    /// <summary><c>NFTA_LOG_FLAGS</c></summary>
    FLAGS = 6,
}

/// <summary>Values of <c>NFT_LOGLEVEL_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_LOGLEVEL_", "linux/netfilter/nf_tables.h")]
public enum NftLogLevel : uint
{
    /// <summary><c>NFT_LOGLEVEL_EMERG</c></summary>
    EMERG = 0,
    /// <summary><c>NFT_LOGLEVEL_ALERT</c></summary>
    ALERT = 1,
    /// <summary><c>NFT_LOGLEVEL_CRIT</c></summary>
    CRIT = 2,
    /// <summary><c>NFT_LOGLEVEL_ERR</c></summary>
    ERR = 3,
    /// <summary><c>NFT_LOGLEVEL_WARNING</c></summary>
    WARNING = 4,
    /// <summary><c>NFT_LOGLEVEL_NOTICE</c></summary>
    NOTICE = 5,
    /// <summary><c>NFT_LOGLEVEL_INFO</c></summary>
    INFO = 6,
    /// <summary><c>NFT_LOGLEVEL_DEBUG</c></summary>
    DEBUG = 7,
    /// <summary><c>NFT_LOGLEVEL_AUDIT</c></summary>
    AUDIT = 8,
}

/// <summary>Values of <c>NFTA_COUNTER_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_COUNTER_", "linux/netfilter/nf_tables.h")]
public enum NftCounterAttribute : ushort
{
    /// <summary><c>NFTA_COUNTER_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_COUNTER_BYTES</c></summary>
    BYTES = 1,
    /// <summary><c>NFTA_COUNTER_PACKETS</c></summary>
    PACKETS = 2,
    /// <summary><c>NFTA_COUNTER_PAD</c></summary>
    PAD = 3,
}

/// <summary>Values of <c>NFT_LIMIT_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_LIMIT_", "linux/netfilter/nf_tables.h")]
public enum NftLimitType : uint
{
    /// <summary><c>NFT_LIMIT_PKTS</c></summary>
    PKTS = 0,
    /// <summary><c>NFT_LIMIT_PKT_BYTES</c></summary>
    PKT_BYTES = 1,
}

/// <summary>Values of <c>NFT_LIMIT_F_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_LIMIT_F_", "linux/netfilter/nf_tables.h")]
[Flags]
public enum NftLimitFlags : uint
{
    /// <summary><c>NFT_LIMIT_F_INV</c></summary>
    INV = 0x1,
}

/// <summary>Values of <c>NFTA_LIMIT_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_LIMIT_", "linux/netfilter/nf_tables.h")]
public enum NftLimitAttribute : ushort
{
    /// <summary><c>NFTA_LIMIT_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_LIMIT_RATE</c></summary>
    RATE = 1,
    /// <summary><c>NFTA_LIMIT_UNIT</c></summary>
    UNIT = 2,
    /// <summary><c>NFTA_LIMIT_BURST</c></summary>
    BURST = 3,
    /// <summary><c>NFTA_LIMIT_TYPE</c></summary>
    TYPE = 4,
    /// <summary><c>NFTA_LIMIT_FLAGS</c></summary>
    FLAGS = 5,
    /// <summary><c>NFTA_LIMIT_PAD</c></summary>
    PAD = 6,
}

/// <summary>Values of <c>NFT_REJECT_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_REJECT_", "linux/netfilter/nf_tables.h")]
public enum NftRejectType : uint
{
    /// <summary><c>NFT_REJECT_ICMP_UNREACH</c></summary>
    ICMP_UNREACH = 0,
    /// <summary><c>NFT_REJECT_TCP_RST</c></summary>
    TCP_RST = 1,
    /// <summary><c>NFT_REJECT_ICMPX_UNREACH</c></summary>
    ICMPX_UNREACH = 2,
}

/// <summary>Values of <c>NFT_REJECT_ICMPX_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFT_REJECT_ICMPX_", "linux/netfilter/nf_tables.h")]
public enum NftRejectIcmpxCode : byte
{
    /// <summary><c>NFT_REJECT_ICMPX_NO_ROUTE</c></summary>
    NO_ROUTE = 0,
    /// <summary><c>NFT_REJECT_ICMPX_PORT_UNREACH</c></summary>
    PORT_UNREACH = 1,
    /// <summary><c>NFT_REJECT_ICMPX_HOST_UNREACH</c></summary>
    HOST_UNREACH = 2,
    /// <summary><c>NFT_REJECT_ICMPX_ADMIN_PROHIBITED</c></summary>
    ADMIN_PROHIBITED = 3,
}

/// <summary>Values of <c>NFTA_REJECT_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_REJECT_", "linux/netfilter/nf_tables.h")]
public enum NftRejectAttribute : ushort
{
    /// <summary><c>NFTA_REJECT_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_REJECT_TYPE</c></summary>
    TYPE = 1,
    /// <summary><c>NFTA_REJECT_ICMP_CODE</c></summary>
    ICMP_CODE = 2,
}

/// <summary>Values of <c>NFTA_GEN_*</c> from <c>&lt;linux/netfilter/nf_tables.h&gt;</c>.</summary>
[UapiPrefix("NFTA_GEN_", "linux/netfilter/nf_tables.h")]
public enum NftGenAttribute : ushort
{
    /// <summary><c>NFTA_GEN_UNSPEC</c></summary>
    UNSPEC = 0,
    /// <summary><c>NFTA_GEN_ID</c></summary>
    ID = 1,
    /// <summary><c>NFTA_GEN_PROC_PID</c></summary>
    PROC_PID = 2,
    /// <summary><c>NFTA_GEN_PROC_NAME</c></summary>
    PROC_NAME = 3,
}
