"""promptreg init: the skeleton of a new registry (skeleton) and its VS Code settings (vscode)."""
