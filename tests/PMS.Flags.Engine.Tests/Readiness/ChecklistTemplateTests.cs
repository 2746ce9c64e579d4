using PMS.Flags.Engine.Common;
using PMS.Flags.Engine.Readiness;

namespace PMS.Flags.Engine.Tests.Readiness;

/// <summary>The playbook template holds the playbook's whole checklist; a custom one is validated whole before use.</summary>
public sealed class ChecklistTemplateTests
{
    [Fact]
    public void The_playbook_template_has_every_pre_deployment_item_in_its_sections_with_unique_stable_names()
    {
        var items = ChecklistTemplate.Playbook.Items;

        Assert.Equal(16, items.Count);
        Assert.Equal(items.Count, items.Select(i => i.Name).Distinct().Count());
        Assert.Equal(7, items.Count(i => i.Section == "Technical Validation"));
        Assert.Equal(5, items.Count(i => i.Section == "Operational Readiness"));
        Assert.Equal(4, items.Count(i => i.Section == "Documentation"));
        Assert.Equal(ChecklistEvidence.RollbackInStaging, items.Single(i => i.Name == "rollback-tested-in-staging").Evidence);
        Assert.Equal(ChecklistEvidence.StagingRollout, items.Single(i => i.Name == "staging-validated").Evidence);
        Assert.Equal(ChecklistEvidence.AlertRules, items.Single(i => i.Name == "alerts-configured").Evidence);
        Assert.Equal("HIPAA compliance verified", items.Single(i => i.Name == "hipaa-compliance").Title);
    }

    /// <summary>The playbook's "Pre-deployment Checklist", line by line as it is written there.</summary>
    public static readonly TheoryData<string> PlaybookLines = new()
    {
        "Feature flag configuration reviewed and approved",
        "Database migrations tested and validated",
        "Rollback procedures tested in staging",
        "Performance impact assessed",
        "Security review completed",
        "HIPAA compliance verified",
        "Monitoring alerts configured",
        "Rollback plan documented and approved",
        "Team notifications prepared",
        "Maintenance window scheduled (if required)",
        "Backup verification completed",
        "Feature documentation updated",
        "API documentation updated (if applicable)",
        "User training materials prepared",
        "Support team briefed",
    };

    [Theory]
    [MemberData(nameof(PlaybookLines))]
    public void Every_line_of_the_playbooks_checklist_is_an_item(string line)
    {
        Assert.Single(ChecklistTemplate.Playbook.Items, i => i.Title == line);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"items\": [{\"name\": \"a\", \"title\": \"A\"}]}")]
    [InlineData("{\"name\": \"t\", \"items\": []}")]
    [InlineData("{\"name\": \"t\", \"items\": [{\"name\": \"Bad Name\", \"title\": \"A\"}]}")]
    [InlineData("{\"name\": \"t\", \"items\": [{\"name\": \"a\"}]}")]
    [InlineData("{\"name\": \"t\", \"items\": [{\"name\": \"a\", \"title\": \"A\", \"check\": \"vibes\"}]}")]
    [InlineData("{\"name\": \"t\", \"items\": [{\"name\": \"a\", \"title\": \"A\", \"owner\": \"me\"}]}")]
    [InlineData("{\"name\": \"t\", \"items\": [{\"name\": \"a\", \"title\": \"A\"}, {\"name\": \"a\", \"title\": \"B\"}]}")]
    public void A_malformed_template_is_ChecklistTemplateInvalid(string json)
    {
        var ex = Assert.Throws<FlagsException>(() => ChecklistTemplate.Parse(json, "t.json"));

        Assert.Equal("ChecklistTemplateInvalid", ex.ErrorId);
    }

    [Fact]
    public void A_name_that_is_neither_Playbook_nor_a_file_is_ChecklistTemplateUnknown()
    {
        var ex = Assert.Throws<FlagsException>(() => ChecklistTemplate.Resolve("/nonexistent/template.json"));

        Assert.Equal("ChecklistTemplateUnknown", ex.ErrorId);
        Assert.Same(ChecklistTemplate.Playbook, ChecklistTemplate.Resolve("playbook"));
    }

    [Fact]
    public void A_recorded_template_reads_back_the_same_items()
    {
        var back = ChecklistTemplate.FromRecorded(ChecklistTemplate.Playbook.Name, ChecklistTemplate.Playbook.ItemsToJson());

        Assert.Equal(ChecklistTemplate.Playbook.Items.Select(i => (i.Name, i.Title, i.Section, i.Evidence)), back.Items.Select(i => (i.Name, i.Title, i.Section, i.Evidence)));
    }
}
