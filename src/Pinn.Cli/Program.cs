return Pinn.Cli.PinnCommand.Run(args, Console.Out, Console.Error);
