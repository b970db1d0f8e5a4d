// One registration function per subcommand. Each adds its subcommand to the
// app; when the subcommand runs, its exit code is stored in *exit_code.
#ifndef PTSIM_TOOLS_CLI_COMMANDS_H_
#define PTSIM_TOOLS_CLI_COMMANDS_H_

namespace CLI {
class App;
}  // namespace CLI

namespace ptsim::cli {

void AddFormatsCommand(CLI::App& app, int* exit_code);
void AddReproCommand(CLI::App& app, int* exit_code);
void AddDecodeCommand(CLI::App& app, int* exit_code);
void AddEncodeCommand(CLI::App& app, int* exit_code);
void AddImageCommand(CLI::App& app, int* exit_code);
void AddDumpCommand(CLI::App& app, int* exit_code);
void AddTranslateCommand(CLI::App& app, int* exit_code);
void AddStressCommand(CLI::App& app, int* exit_code);
void AddBugsCommand(CLI::App& app, int* exit_code);
void AddDiffCommand(CLI::App& app, int* exit_code);
void AddOracleCommand(CLI::App& app, int* exit_code);
void AddCampaignCommand(CLI::App& app, int* exit_code);

}  // namespace ptsim::cli

#endif  // PTSIM_TOOLS_CLI_COMMANDS_H_
