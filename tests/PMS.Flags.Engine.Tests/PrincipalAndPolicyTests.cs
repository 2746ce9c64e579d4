using Newtonsoft.Json.Linq;
using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Flags;
using PMS.Flags.Engine.Tests.Support;
using static PMS.Flags.Engine.Tests.Support.Documents;

namespace PMS.Flags.Engine.Tests;

/// <summary>Each event keeps who really acted beside an asserted -User, and the protected-environment set in force.</summary>
public sealed class PrincipalAndPolicyTests
{
    [Fact]
    public async Task An_asserted_user_does_not_replace_the_principal_and_the_protected_set_is_recorded()
    {
        using var f = new AuditFixture(Seed);
        var mutation = new FlagMutation { Flag = "new_ui", Environment = "staging", Kind = FlagChangeKind.SetPercentage, Percentage = 30m, Reason = "r", User = "someone-else@pms.example" };

        await f.Operations.ChangeAsync(mutation, CancellationToken.None);

        var recorded = Assert.Single(f.LedgerEvents);
        var details = JObject.Parse(recorded.Details!);
        Assert.Equal("someone-else@pms.example", recorded.UserId);
        Assert.Equal(UserIdentity.Resolve(null), (string?)details["principal"]);
        Assert.Equal(new[] { "production" }, details["protected_environments"]!.Select(t => (string)t!));
    }
}
