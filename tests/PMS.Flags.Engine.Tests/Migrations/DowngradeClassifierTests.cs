using PMS.Flags.Engine.Migrations;

namespace PMS.Flags.Engine.Tests.Migrations;

public sealed class DowngradeClassifierTests
{
    private static MigrationClassification Classify(string downgradeBody)
    {
        var source = "revision = 'x'\ndown_revision = None\n\ndef upgrade():\n    op.drop_table('not_this_one')\n\n\ndef downgrade() -> None:\n" + downgradeBody + "\n\n\ndef helper():\n    op.drop_table('nor_this')\n";
        return DowngradeClassifier.Classify(PythonSource.LogicalLines(source)).Classification;
    }

    [Theory]
    [InlineData("    op.drop_table('settings')")]
    [InlineData("    op.drop_column('settings', 'notes')")]
    [InlineData("    op.drop_table(\n        'settings',\n    )")]
    [InlineData("    with op.batch_alter_table('settings') as batch_op:\n        batch_op.drop_column('notes')")]
    [InlineData("    op.execute(\"DELETE FROM settings WHERE key = 'x'\")")]
    [InlineData("    op.execute('truncate settings')")]
    [InlineData("    op.execute(sa.text(\"DROP TABLE legacy\"))")]
    [InlineData("    conn = op.get_bind()\n    conn.execute(sa.text('''\n        DELETE FROM settings\n    '''))")]
    [InlineData("    op.execute(\"ALTER TABLE settings \"\n               \"DROP COLUMN notes\")")]
    public void Dropping_tables_or_columns_or_raw_destructive_sql_is_Destructive(string body)
        => Assert.Equal(MigrationClassification.Destructive, Classify(body));

    [Theory]
    [InlineData("    pass")]
    [InlineData("    \"\"\"Nothing to undo.\"\"\"\n    pass")]
    [InlineData("    op.drop_index('ix_settings_value', table_name='settings')")]
    [InlineData("    op.add_column('settings', sa.Column('notes', sa.Text(), nullable=True))")]
    [InlineData("    # op.drop_table('settings') is only a comment\n    op.alter_column('settings', 'value', nullable=True)")]
    [InlineData("    op.execute(\"ALTER TABLE settings RENAME COLUMN v TO value\")")]
    [InlineData("    op.create_index('ix', 'settings', ['key'])  # not drop_table('x')")]
    [InlineData("    op.rename_table('settings_new', 'settings')\n    op.drop_constraint('uq_key', 'settings')")]
    public void Structural_changes_that_keep_data_are_Reversible(string body)
        => Assert.Equal(MigrationClassification.Reversible, Classify(body));

    [Theory]
    [InlineData("    restore_legacy_settings()")]
    [InlineData("    op.execute(SQL_FROM_A_CONSTANT)")]
    [InlineData("    for table in TABLES:\n        op.create_index('ix', table, ['id'])")]
    [InlineData("    raise NotImplementedError('irreversible')")]
    [InlineData("    op.invoke(SomeCustomOperation())")]
    [InlineData("    session.execute('select 1')")]
    public void What_cannot_be_judged_from_the_source_is_Unknown(string body)
        => Assert.Equal(MigrationClassification.Unknown, Classify(body));

    [Fact]
    public void A_script_without_downgrade_is_Unknown()
    {
        var (classification, reason) = DowngradeClassifier.Classify(PythonSource.LogicalLines("revision = 'x'\n\ndef upgrade():\n    pass\n"));
        Assert.Equal(MigrationClassification.Unknown, classification);
        Assert.Contains("no downgrade", reason);
    }

    [Fact]
    public void Destructive_wins_over_Unknown_and_names_the_statement()
    {
        var (classification, reason) = DowngradeClassifier.Classify(PythonSource.LogicalLines("def downgrade():\n    helper()\n    op.drop_column('settings', 'notes')\n"));
        Assert.Equal(MigrationClassification.Destructive, classification);
        Assert.Contains("drop_column", reason);
    }
}
