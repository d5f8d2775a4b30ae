namespace Pinn.Problems;
